//! Retry a command once after a UNIT ATTENTION that only reports a state
//! change: 6/28/xx (not ready to ready change, medium may have changed;
//! import/export element accessed) and 6/29/xx (power on, reset).
//!
//! The device reports such a condition once, on the first command after
//! the event, without executing that command (SAM-5 5.14), so issuing it
//! again is safe. A second UNIT ATTENTION in a row is returned to the caller.
//! The last swallowed condition is kept so callers can re-read device state.

#![forbid(unsafe_code)]

use std::time::Duration;

use super::sense::{SenseData, SenseKey};
use super::transport::{Completion, DataDirection, ScsiError, ScsiTransport};

/// ASC of "not ready to ready change, medium may have changed" (28/00) and
/// "import or export element accessed" (28/01).
const ASC_MEDIUM_MAY_HAVE_CHANGED: u8 = 0x28;
/// ASC of "power on, reset, or bus device reset occurred" (29/00..29/07).
const ASC_POWER_ON_RESET: u8 = 0x29;

/// True for the unit attentions [`UnitAttentionRetry`] retries.
pub fn is_retryable_unit_attention(sense: &SenseData) -> bool {
    sense.key == SenseKey::UnitAttention
        && matches!(sense.asc, ASC_MEDIUM_MAY_HAVE_CHANGED | ASC_POWER_ON_RESET)
}

/// SSC commands that act at the current tape position. After a power on or
/// reset (29/xx) that position is lost (the drive is back at BOT and its
/// write buffer is gone): re-issuing READ, WRITE, WRITE FILEMARKS, SPACE or
/// ERASE would act at the wrong place (a WRITE at BOT overwrites the whole
/// tape), so their 29/xx UNIT ATTENTION goes to the caller instead.
fn acts_at_current_position(cdb: &[u8]) -> bool {
    use super::opcodes::{ERASE, READ_6, SPACE_16, SPACE_6, WRITE_6, WRITE_FILEMARKS_6};
    matches!(
        cdb.first(),
        Some(&(READ_6 | WRITE_6 | WRITE_FILEMARKS_6 | SPACE_6 | SPACE_16 | ERASE))
    )
}

/// True when this command may be issued again after `sense`.
fn may_retry(cdb: &[u8], sense: &SenseData) -> bool {
    is_retryable_unit_attention(sense)
        && !(sense.asc == ASC_POWER_ON_RESET && acts_at_current_position(cdb))
}

/// A transport wrapper that retries once on a retryable UNIT ATTENTION.
#[derive(Debug)]
pub struct UnitAttentionRetry<T: ScsiTransport> {
    inner: T,
    last_unit_attention: Option<SenseData>,
}

impl<T: ScsiTransport> UnitAttentionRetry<T> {
    pub fn new(inner: T) -> Self {
        UnitAttentionRetry {
            inner,
            last_unit_attention: None,
        }
    }

    /// The unit attention swallowed by the last retry, if any (cleared by this call).
    pub fn take_unit_attention(&mut self) -> Option<SenseData> {
        self.last_unit_attention.take()
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
}

impl<T: ScsiTransport> ScsiTransport for UnitAttentionRetry<T> {
    fn execute(
        &mut self,
        cdb: &[u8],
        mut data: DataDirection<'_>,
        timeout: Duration,
    ) -> Result<Completion, ScsiError> {
        match self.inner.execute(cdb, data.reborrow(), timeout) {
            Err(ScsiError::CheckCondition { sense, .. }) if may_retry(cdb, &sense) => {
                tracing::debug!(path = self.inner.path(), %sense, "unit attention, retrying once");
                self.last_unit_attention = Some(sense);
                self.inner.execute(cdb, data, timeout)
            }
            other => other,
        }
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
        // A medium change before a READ(6) is still retried.
        let mut t = wrap(vec![ua(0x28, 0x00), ok(4)]);
        let mut buf = [0u8; 4];
        t.execute(
            &[0x08, 0, 0, 0, 4, 0],
            DataDirection::FromDevice(&mut buf),
            Duration::from_secs(1),
        )
        .unwrap();
        assert_eq!(calls(&t), 2);
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
