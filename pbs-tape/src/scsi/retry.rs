//! Retry a command once after a UNIT ATTENTION that only reports a state
//! change: 6/28/xx (not ready to ready change, medium may have changed;
//! import/export element accessed) and 6/29/xx (power on, reset).
//!
//! The device reports such a condition once, on the first command after
//! the event, without executing that command (SAM-5 5.14), so issuing it
//! again is safe -- unless the command acts at the tape position. A reset
//! (29/xx) or a medium change (28/00) means the position is lost (the drive
//! is back at BOT, its write buffer gone, or another cartridge is loaded):
//! READ, WRITE, WRITE FILEMARKS, SPACE or ERASE issued again would act at
//! the wrong place (a WRITE at BOT overwrites the whole tape), so their
//! unit attention always goes to the caller.
//!
//! A *writing session* ([`UnitAttentionRetry::begin_write_session`]) is
//! stricter: any 29/xx or 28/00, on any command, poisons the session. The
//! tape position then counts as lost: no command that depends on the
//! position (the ones above, and LOCATE, REWIND, READ POSITION, FORMAT
//! MEDIUM) is sent again until a new session starts; each gets
//! [`ScsiError::PositionLost`] naming the event. Commands that do not
//! depend on the position (TEST UNIT READY, MODE SENSE, LOAD UNLOAD,
//! PREVENT ALLOW MEDIUM REMOVAL, ...) are still retried once, so the
//! caller can report, unlock and unload. The caller proves the position
//! again from the tape itself before it writes in a new session.
//!
//! A second UNIT ATTENTION in a row is returned to the caller. The last
//! swallowed condition is kept so callers can re-read device state.

#![forbid(unsafe_code)]

use std::time::Duration;

use super::sense::{SenseData, SenseKey};
use super::transport::{Completion, DataDirection, ScsiError, ScsiTransport};

/// ASC of "not ready to ready change, medium may have changed" (28/00) and
/// "import or export element accessed" (28/01).
const ASC_MEDIUM_MAY_HAVE_CHANGED: u8 = 0x28;
/// ASCQ of 28/00 (the medium may have changed; 28/01 is a changer's
/// import/export element).
const ASCQ_MEDIUM_MAY_HAVE_CHANGED: u8 = 0x00;
/// ASC of "power on, reset, or bus device reset occurred" (29/00..29/07).
const ASC_POWER_ON_RESET: u8 = 0x29;

/// True for the unit attentions [`UnitAttentionRetry`] retries.
pub fn is_retryable_unit_attention(sense: &SenseData) -> bool {
    sense.key == SenseKey::UnitAttention
        && matches!(sense.asc, ASC_MEDIUM_MAY_HAVE_CHANGED | ASC_POWER_ON_RESET)
}

/// True for the unit attentions after which a tape drive's position is
/// lost: power on or reset (29/xx) and medium may have changed (28/00).
pub fn loses_tape_position(sense: &SenseData) -> bool {
    sense.key == SenseKey::UnitAttention
        && (sense.asc == ASC_POWER_ON_RESET
            || (sense.asc == ASC_MEDIUM_MAY_HAVE_CHANGED
                && sense.ascq == ASCQ_MEDIUM_MAY_HAVE_CHANGED))
}

/// SSC commands that act at the current tape position: READ(6), WRITE(6),
/// WRITE FILEMARKS(6), SPACE(6)/(16) and ERASE.
fn acts_at_current_position(cdb: &[u8]) -> bool {
    use super::opcodes::{ERASE, READ_6, SPACE_16, SPACE_6, WRITE_6, WRITE_FILEMARKS_6};
    matches!(
        cdb.first(),
        Some(&(READ_6 | WRITE_6 | WRITE_FILEMARKS_6 | SPACE_6 | SPACE_16 | ERASE))
    )
}

/// Commands whose outcome depends on (or sets) the tape position: those
/// of [`acts_at_current_position`], plus LOCATE(10)/(16), REWIND, READ
/// POSITION and FORMAT MEDIUM. A poisoned writing session refuses them.
fn depends_on_position(cdb: &[u8]) -> bool {
    use super::opcodes::{FORMAT_MEDIUM, LOCATE_10, LOCATE_16, READ_POSITION, REWIND};
    acts_at_current_position(cdb)
        || matches!(
            cdb.first(),
            Some(&(LOCATE_10 | LOCATE_16 | REWIND | READ_POSITION | FORMAT_MEDIUM))
        )
}

/// The writing-session state of a [`UnitAttentionRetry`].
#[derive(Debug, Clone, PartialEq, Eq)]
enum Session {
    /// No writing session: unit attentions are retried (see the module docs).
    Off,
    /// A writing session whose position has not been lost.
    Armed,
    /// A writing session that saw this reset or medium change.
    Poisoned(SenseData),
}

/// A transport wrapper that retries once on a retryable UNIT ATTENTION.
#[derive(Debug)]
pub struct UnitAttentionRetry<T: ScsiTransport> {
    inner: T,
    last_unit_attention: Option<SenseData>,
    session: Session,
}

impl<T: ScsiTransport> UnitAttentionRetry<T> {
    pub fn new(inner: T) -> Self {
        UnitAttentionRetry {
            inner,
            last_unit_attention: None,
            session: Session::Off,
        }
    }

    /// The unit attention swallowed by the last retry, if any (cleared by this call).
    pub fn take_unit_attention(&mut self) -> Option<SenseData> {
        self.last_unit_attention.take()
    }

    /// Starts a writing session (see the module documentation); a session
    /// poisoned before starts over. Call it before the commands that prove
    /// the position the session writes at.
    pub fn begin_write_session(&mut self) {
        self.session = Session::Armed;
    }

    /// Ends the writing session: unit attentions are retried again.
    pub fn end_write_session(&mut self) {
        self.session = Session::Off;
    }

    /// True while a writing session is open (poisoned or not).
    pub fn in_write_session(&self) -> bool {
        self.session != Session::Off
    }

    /// The reset or medium change that poisoned the writing session.
    pub fn position_lost(&self) -> Option<&SenseData> {
        match &self.session {
            Session::Poisoned(event) => Some(event),
            _ => None,
        }
    }

    /// The wrapped transport.
    pub fn inner(&self) -> &T {
        &self.inner
    }

    /// The wrapped transport, mutable.
    pub fn inner_mut(&mut self) -> &mut T {
        &mut self.inner
    }

    /// Unwrap.
    pub fn into_inner(self) -> T {
        self.inner
    }

    /// A position-losing unit attention in a writing session poisons it
    /// (the first event is the one reported).
    fn note_position_loss(&mut self, sense: &SenseData) {
        if self.session == Session::Armed && loses_tape_position(sense) {
            self.session = Session::Poisoned(sense.clone());
        }
    }

    fn position_lost_error(&self) -> Option<ScsiError> {
        self.position_lost().map(|event| ScsiError::PositionLost {
            event: event.clone(),
        })
    }
}

impl<T: ScsiTransport> ScsiTransport for UnitAttentionRetry<T> {
    fn execute(
        &mut self,
        cdb: &[u8],
        mut data: DataDirection<'_>,
        timeout: Duration,
    ) -> Result<Completion, ScsiError> {
        if depends_on_position(cdb) {
            if let Some(err) = self.position_lost_error() {
                return Err(err);
            }
        }
        let sense = match self.inner.execute(cdb, data.reborrow(), timeout) {
            Err(ScsiError::CheckCondition { sense, .. }) if is_retryable_unit_attention(&sense) => {
                sense
            }
            other => return other,
        };
        self.note_position_loss(&sense);
        if depends_on_position(cdb) {
            if let Some(err) = self.position_lost_error() {
                return Err(err);
            }
        }
        if loses_tape_position(&sense) && acts_at_current_position(cdb) {
            return Err(ScsiError::CheckCondition {
                sense,
                transferred: 0,
                residual: data.len(),
            });
        }
        tracing::debug!(path = self.inner.path(), %sense, "unit attention, retrying once");
        self.last_unit_attention = Some(sense);
        let result = self.inner.execute(cdb, data, timeout);
        if let Err(ScsiError::CheckCondition { sense, .. }) = &result {
            if is_retryable_unit_attention(sense) {
                let sense = sense.clone();
                self.note_position_loss(&sense);
            }
        }
        result
    }

    fn max_transfer(&self) -> usize {
        self.inner.max_transfer()
    }

    fn path(&self) -> &str {
        self.inner.path()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scsi::testing::{check_condition, ScriptedTransport};
    use std::collections::VecDeque;

    fn ua(asc: u8, ascq: u8) -> Result<Vec<u8>, ScsiError> {
        Err(check_condition(SenseData::new(
            SenseKey::UnitAttention,
            asc,
            ascq,
        )))
    }

    /// `n` bytes of 0xAB: a data-in command transfers them.
    fn ok(n: usize) -> Result<Vec<u8>, ScsiError> {
        Ok(vec![0xab; n])
    }

    /// A transport answering from `answers` in order (GOOD, no data, after them).
    fn wrap(answers: Vec<Result<Vec<u8>, ScsiError>>) -> UnitAttentionRetry<ScriptedTransport> {
        let mut answers = VecDeque::from(answers);
        UnitAttentionRetry::new(
            ScriptedTransport::new("scripted")
                .with_max_transfer(1 << 20)
                .respond_with(move |_| answers.pop_front().unwrap_or(Ok(Vec::new()))),
        )
    }

    fn calls(t: &UnitAttentionRetry<ScriptedTransport>) -> usize {
        t.inner().cdbs().len()
    }

    #[test]
    fn retries_medium_changed_once() {
        let mut t = wrap(vec![ua(0x28, 0), ok(4)]);
        let mut buf = [0u8; 4];
        let c = t
            .execute(
                &[0x12; 6],
                DataDirection::FromDevice(&mut buf),
                Duration::from_secs(1),
            )
            .unwrap();
        assert_eq!(c.transferred, 4);
        assert_eq!(buf, [0xab; 4]);
        assert_eq!(calls(&t), 2);
        assert!(t
            .take_unit_attention()
            .is_some_and(|s| s.is(SenseKey::UnitAttention, 0x28, 0)));
        assert!(t.take_unit_attention().is_none());
    }

    #[test]
    fn retries_reset_but_not_twice() {
        let mut t = wrap(vec![ua(0x29, 0x02), ua(0x29, 0x00), ok(0)]);
        let err = t
            .execute(&[0; 6], DataDirection::None, Duration::from_secs(1))
            .unwrap_err();
        assert!(err
            .sense()
            .is_some_and(|s| s.is(SenseKey::UnitAttention, 0x29, 0)));
        assert_eq!(calls(&t), 2);
    }

    #[test]
    fn reset_is_not_retried_for_position_dependent_commands() {
        // WRITE(6) after power on/reset: the position is lost, no retry.
        let mut t = wrap(vec![ua(0x29, 0x00), ok(0)]);
        let err = t
            .execute(
                &[0x0a, 0, 0, 0, 4, 0],
                DataDirection::ToDevice(&[1; 4]),
                Duration::from_secs(1),
            )
            .unwrap_err();
        assert!(err
            .sense()
            .is_some_and(|s| s.is(SenseKey::UnitAttention, 0x29, 0)));
        assert_eq!(calls(&t), 1);
        // A medium change (28/00) before a READ(6), WRITE FILEMARKS, SPACE
        // or ERASE is not retried either: another cartridge may be loaded.
        for cdb in [
            [0x08, 0, 0, 0, 4, 0],
            [0x10, 0, 0, 0, 1, 0],
            [0x11, 1, 0, 0, 1, 0],
            [0x19, 0, 0, 0, 0, 0],
        ] {
            let mut t = wrap(vec![ua(0x28, 0x00), ok(0)]);
            let err = t
                .execute(&cdb, DataDirection::None, Duration::from_secs(1))
                .unwrap_err();
            assert!(err.sense().is_some_and(|s| s.asc == 0x28), "{cdb:?}");
            assert_eq!(calls(&t), 1, "{cdb:?} was re-issued");
        }
        // An import/export element access (28/01) is no medium change.
        let mut t = wrap(vec![ua(0x28, 0x01), ok(4)]);
        let mut buf = [0u8; 4];
        t.execute(
            &[0x08, 0, 0, 0, 4, 0],
            DataDirection::FromDevice(&mut buf),
            Duration::from_secs(1),
        )
        .unwrap();
        assert_eq!(calls(&t), 2);
        // LOCATE and READ POSITION are absolute: retried outside a session.
        let mut t = wrap(vec![ua(0x29, 0x00), ok(0)]);
        t.execute(&[0x92; 16], DataDirection::None, Duration::from_secs(1))
            .unwrap();
        assert_eq!(calls(&t), 2);
    }

    #[test]
    fn a_reset_or_medium_change_poisons_a_writing_session() {
        for event in [(0x29, 0x00), (0x29, 0x02), (0x28, 0x00)] {
            // The unit attention arrives on READ POSITION: it is not
            // retried (the answer would be BOT), the session is poisoned.
            let mut t = wrap(vec![ua(event.0, event.1), ok(32), ok(0), ok(0)]);
            t.begin_write_session();
            let mut buf = [0u8; 32];
            let err = t
                .execute(
                    &[0x34, 6, 0, 0, 0, 0, 0, 0, 0, 0],
                    DataDirection::FromDevice(&mut buf),
                    Duration::from_secs(1),
                )
                .unwrap_err();
            let lost = err.position_lost().expect("position lost");
            assert_eq!((lost.asc, lost.ascq), event);
            assert_eq!(calls(&t), 1);
            // Nothing that depends on the position is sent any more.
            for cdb in [
                vec![0x0a, 0, 0, 0, 4, 0],
                vec![0x10, 0, 0, 0, 1, 0],
                vec![0x92; 16],
                vec![0x01, 0, 0, 0, 0, 0],
                vec![0x19, 0, 0, 0, 0, 0],
            ] {
                let err = t
                    .execute(&cdb, DataDirection::None, Duration::from_secs(1))
                    .unwrap_err();
                assert!(err.position_lost().is_some(), "{cdb:?}");
            }
            assert_eq!(calls(&t), 1);
            // Other commands still run (unlock, unload, status).
            t.execute(
                &[0x1e, 0, 0, 0, 0, 0],
                DataDirection::None,
                Duration::from_secs(1),
            )
            .unwrap();
            assert_eq!(calls(&t), 2);
            assert!(t.position_lost().is_some());
            // A new session starts clean.
            t.begin_write_session();
            assert!(t.position_lost().is_none());
            t.execute(
                &[0x01, 0, 0, 0, 0, 0],
                DataDirection::None,
                Duration::from_secs(1),
            )
            .unwrap();
        }
    }

    #[test]
    fn a_unit_attention_on_a_status_command_poisons_the_session_too() {
        // TEST UNIT READY gets 29/00: retried (it does not depend on the
        // position), but the next WRITE is refused without being sent.
        let mut t = wrap(vec![ua(0x29, 0x00), ok(0), ok(0)]);
        t.begin_write_session();
        t.execute(&[0; 6], DataDirection::None, Duration::from_secs(1))
            .unwrap();
        assert_eq!(calls(&t), 2);
        let err = t
            .execute(
                &[0x0a, 0, 0, 0, 4, 0],
                DataDirection::ToDevice(&[1; 4]),
                Duration::from_secs(1),
            )
            .unwrap_err();
        assert!(err.to_string().contains("power on, reset"), "{err}");
        assert_eq!(calls(&t), 2);
        // Without a session a 28/01 or a mode change does not poison.
        let mut t = wrap(vec![ua(0x28, 0x01), ok(0), ok(0)]);
        t.begin_write_session();
        t.execute(&[0; 6], DataDirection::None, Duration::from_secs(1))
            .unwrap();
        t.execute(
            &[0x0a, 0, 0, 0, 4, 0],
            DataDirection::ToDevice(&[1; 4]),
            Duration::from_secs(1),
        )
        .unwrap();
        assert!(t.position_lost().is_none());
        t.end_write_session();
        assert!(!t.in_write_session());
    }

    #[test]
    fn other_errors_are_not_retried() {
        // Mode parameters changed (6/2A/01) and a medium error pass through.
        let mut t = wrap(vec![ua(0x2a, 0x01), ok(0)]);
        assert!(t
            .execute(&[0; 6], DataDirection::None, Duration::from_secs(1))
            .is_err());
        assert_eq!(calls(&t), 1);
        let mut t = wrap(vec![Err(ScsiError::Status(0x08))]);
        assert!(matches!(
            t.execute(&[0; 6], DataDirection::None, Duration::from_secs(1)),
            Err(ScsiError::Status(0x08))
        ));
        assert_eq!(calls(&t), 1);
        assert_eq!(t.path(), "scripted");
        assert_eq!(t.max_transfer(), 1 << 20);
    }
}
