use super::*;
use crate::catalog::MediaSetStatus;

const DAY: i64 = 86_400;

fn pool(allocation: &str, retention: &str) -> PoolRecord {
    PoolRecord {
        name: "p".into(),
        allocation: allocation.parse().unwrap(),
        retention: retention.parse().unwrap(),
        template: None,
        comment: None,
        encrypt: None,
        created: 0,
    }
}

fn set(n: u128, created: i64) -> MediaSetRecord {
    MediaSetRecord {
        uuid: Uuid::from_u128(n),
        pool: "p".into(),
        created,
        status: MediaSetStatus::Writable,
        closed: None,
        last_write: None,
        encrypt: None,
    }
}

fn tape(label: &str, labelled: i64) -> MediaRecord {
    MediaRecord::new_labelled(
        Uuid::new_v4(),
        label,
        Some("p"),
        MediaLocation::Online,
        Some("lib"),
        labelled,
    )
}

fn member(label: &str, set: &MediaSetRecord, seq: u32, status: MediaStatus) -> MediaRecord {
    MediaRecord {
        media_set: Some(set.uuid),
        seq_nr: Some(seq),
        status,
        ..tape(label, 0)
    }
}

fn changer() -> Reach {
    Reach::Changer { name: "lib".into() }
}

struct World {
    pool: PoolRecord,
    sets: Vec<MediaSetRecord>,
    media: Vec<MediaRecord>,
    reach: Reach,
    busy: HashSet<Uuid>,
    blank: Vec<String>,
    now: Moment,
}

impl World {
    fn new(pool: PoolRecord, now: i64) -> World {
        World {
            pool,
            sets: Vec::new(),
            media: Vec::new(),
            reach: changer(),
            busy: HashSet::new(),
            blank: Vec::new(),
            now: Moment::utc(now),
        }
    }

    fn input(&self) -> AllocInput<'_> {
        AllocInput {
            pool: &self.pool,
            sets: &self.sets,
            media: &self.media,
            reach: &self.reach,
            busy_sets: &self.busy,
            blank: &self.blank,
            now: &self.now,
        }
    }

    fn decide(&self, force: bool) -> SetDecision {
        decide_media_set(&self.input(), force)
    }

    fn choose(&self, set: Option<usize>) -> TapeChoice {
        let set = set.map(|i| self.sets[i].clone());
        choose_tape(&self.input(), set.as_ref())
    }

    fn chosen(&self, set: Option<usize>) -> String {
        self.choose(set).label().unwrap_or("-").to_string()
    }
}

#[test]
fn new_set_reasons() {
    let mut w = World::new(pool("continue", "keep"), 1000);
    assert_eq!(w.decide(false), SetDecision::New(NewSetReason::NoSet));
    w.sets.push(set(1, 100));
    w.media.push(member("A", &w.sets[0], 0, MediaStatus::Full));
    w.media
        .push(member("B", &w.sets[0], 1, MediaStatus::Writable));
    assert_eq!(w.decide(false), SetDecision::Continue(w.sets[0].clone()));
    assert_eq!(w.decide(true), SetDecision::New(NewSetReason::Forced));

    w.pool = pool("always", "keep");
    assert_eq!(w.decide(false), SetDecision::New(NewSetReason::Always));
    assert_eq!(
        w.decide(false).to_string_reason(),
        "new media set: allocation 'always'"
    );

    // Daily: the set started at 100 (1970-01-01), the next event is 86400.
    w.pool = pool("daily", "keep");
    w.now = Moment::utc(DAY - 1);
    assert_eq!(w.decide(false), SetDecision::Continue(w.sets[0].clone()));
    w.now = Moment::utc(DAY);
    assert_eq!(
        w.decide(false).to_string_reason(),
        "new media set: allocation 'daily' reached"
    );

    w.pool = pool("continue", "keep");
    w.pool.encrypt = Some("aa".into());
    assert_eq!(
        w.decide(false).to_string_reason(),
        "new media set: pool key changed"
    );
    w.pool.encrypt = None;

    w.media[1].location = MediaLocation::Vault;
    w.media[1].location_name = Some("offsite".into());
    assert_eq!(
        w.decide(false).to_string_reason(),
        "new media set: last member is in vault 'offsite' (B)"
    );
    // Merely offline: the set continues (the next tape joins it).
    w.media[1].location = MediaLocation::Offline;
    w.media[1].location_name = None;
    assert_eq!(w.decide(false), SetDecision::Continue(w.sets[0].clone()));

    w.media[0].status = MediaStatus::Damaged;
    assert_eq!(
        w.decide(false).to_string_reason(),
        "new media set: tape A of the current set is damaged"
    );
    w.media[0].status = MediaStatus::Full;

    w.sets[0].closed = Some(500);
    assert!(w
        .decide(false)
        .to_string_reason()
        .starts_with("new media set: media set 'Thu Jan  1 00:01:40 1970' was closed"));
}

impl SetDecision {
    fn to_string_reason(&self) -> String {
        match self {
            SetDecision::New(r) => r.to_string(),
            SetDecision::Continue(_) => "continue".into(),
        }
    }
}

#[test]
fn tape_order_append_empty_expired_free_blank() {
    let mut w = World::new(pool("continue", "overwrite"), 10 * DAY);
    // Set 1 (expired: closed when set 2 started, overwrite), set 2 current.
    w.sets.push(set(1, DAY));
    w.sets.push(set(2, 2 * DAY));
    w.media
        .push(member("OLD1", &w.sets[0], 0, MediaStatus::Full));
    w.media
        .push(member("OLD2", &w.sets[0], 1, MediaStatus::Full));
    w.media
        .push(member("CUR1", &w.sets[1], 0, MediaStatus::Writable));
    w.media.push(tape("EMPTY2", 5));
    w.media.push(tape("EMPTY1", 5));
    w.media.push(tape("EMPTY0", 6));
    let mut free = tape("FREE1", 0);
    free.pool = None;
    w.media.push(free);
    let mut other_pool = tape("OTHER", 0);
    other_pool.pool = Some("q".into());
    w.media.push(other_pool);
    w.blank = vec!["BLANK2".into(), "BLANK1".into()];

    assert_eq!(w.choose(Some(1)), TapeChoice::Append(w.media[2].clone()));
    w.media[2].status = MediaStatus::Full;
    // Empty tapes of the pool: oldest label first, then by label.
    let expected = [
        "EMPTY1", "EMPTY2", "EMPTY0", "OLD1", "OLD2", "FREE1", "BLANK1",
    ];
    for label in expected {
        assert_eq!(w.chosen(Some(1)), label);
        // Take it out of the race (as if it joined another set).
        if let Some(m) = w.media.iter_mut().find(|m| m.label == label) {
            m.status = MediaStatus::Retired;
        } else {
            w.blank.retain(|b| b != label);
        }
    }
    assert_eq!(w.chosen(Some(1)), "BLANK2");
    w.blank.clear();
    assert_eq!(w.choose(Some(1)), TapeChoice::Nothing { insert: vec![] });
}

#[test]
fn expired_tapes_oldest_set_first_and_never_a_busy_set() {
    let mut w = World::new(pool("continue", "1d"), 100 * DAY);
    for (i, start) in [10, 20, 30].iter().enumerate() {
        w.sets.push(set(i as u128 + 1, start * DAY));
    }
    // Listed out of order: the oldest set wins, not the label.
    w.media
        .push(member("Z-SET1", &w.sets[0], 0, MediaStatus::Full));
    w.media
        .push(member("A-SET2", &w.sets[1], 0, MediaStatus::Full));
    w.media
        .push(member("CUR", &w.sets[2], 0, MediaStatus::Full));
    let choice = w.choose(Some(2));
    assert_eq!(
        choice,
        TapeChoice::Join {
            media: w.media[0].clone(),
            why: JoinReason::Expired {
                set: w.sets[0].uuid
            }
        }
    );
    // A restore reads set 1: set 2 instead.
    w.busy.insert(w.sets[0].uuid);
    assert_eq!(w.chosen(Some(2)), "A-SET2");
    // Not yet expired: set 2 closed at day 30, expires at day 31.
    w.now = Moment::utc(31 * DAY - 1);
    assert_eq!(w.chosen(Some(2)), "-");
    w.now = Moment::utc(31 * DAY);
    assert_eq!(w.chosen(Some(2)), "A-SET2");
    // Damaged and retired tapes of an expired set never come back.
    w.media[1].status = MediaStatus::Damaged;
    assert_eq!(w.chosen(Some(2)), "-");
}

#[test]
fn vaulted_tapes_are_never_chosen() {
    let mut w = World::new(pool("continue", "overwrite"), 100 * DAY);
    w.sets.push(set(1, DAY));
    w.sets.push(set(2, 2 * DAY));
    let mut expired = member("EXP", &w.sets[0], 0, MediaStatus::Full);
    expired.location = MediaLocation::Vault;
    expired.location_name = Some("offsite".into());
    let mut empty = tape("EMPTY", 0);
    empty.location = MediaLocation::Vault;
    empty.location_name = Some("offsite".into());
    w.media.push(expired);
    w.media.push(empty);
    let mut last = member("LAST", &w.sets[1], 0, MediaStatus::Writable);
    last.location = MediaLocation::Vault;
    w.media.push(last);
    for reach in [changer(), Reach::Standalone { loaded: None }] {
        w.reach = reach;
        assert_eq!(w.choose(Some(1)), TapeChoice::Nothing { insert: vec![] });
        assert_eq!(w.choose(None), TapeChoice::Nothing { insert: vec![] });
    }
}

#[test]
fn changer_and_standalone_drive_reach_different_tapes() {
    let mut w = World::new(pool("continue", "keep"), 0);
    let mut here = tape("HERE", 1);
    here.location_name = Some("lib".into());
    let mut other = tape("OTHERLIB", 0);
    other.location_name = Some("lib2".into());
    let mut shelf = tape("SHELF", 0);
    shelf.location = MediaLocation::Offline;
    shelf.location_name = None;
    let mut shelf2 = tape("SHELF2", 2);
    shelf2.location = MediaLocation::Offline;
    shelf2.location_name = None;
    w.media = vec![here, other, shelf, shelf2];
    // A changer: only its own online tapes.
    assert_eq!(w.chosen(None), "HERE");
    w.reach = Reach::Changer {
        name: "lib2".into(),
    };
    assert_eq!(w.chosen(None), "OTHERLIB");
    // A standalone drive: only offline tapes; the one it holds first.
    w.reach = Reach::Standalone { loaded: None };
    assert_eq!(w.chosen(None), "SHELF");
    w.reach = Reach::Standalone {
        loaded: Some("SHELF2".into()),
    };
    assert_eq!(w.chosen(None), "SHELF2");
    // Holding a tape of a library does not make it writable here.
    w.reach = Reach::Standalone {
        loaded: Some("HERE".into()),
    };
    assert_eq!(w.chosen(None), "SHELF");
    // Blank cartridges are labelled only in a changer.
    w.media.retain(|m| m.location == MediaLocation::Online);
    w.blank = vec!["BLANK".into()];
    assert_eq!(w.chosen(None), "-");
    w.reach = changer();
    w.media.clear();
    assert_eq!(w.choose(None), TapeChoice::LabelBlank("BLANK".into()));
}

#[test]
fn nothing_here_names_the_tapes_to_insert() {
    let mut w = World::new(pool("continue", "keep"), 0);
    w.sets.push(set(1, 0));
    let mut last = member("LAST", &w.sets[0], 0, MediaStatus::Writable);
    last.location = MediaLocation::Offline;
    last.location_name = None;
    let mut empty = tape("EMPTY", 0);
    empty.location = MediaLocation::Offline;
    empty.location_name = None;
    w.media = vec![last.clone(), empty.clone()];
    // With a changer, the set's writable tape and the empty one would do.
    assert_eq!(
        w.choose(Some(0)),
        TapeChoice::Nothing {
            insert: vec![last.clone(), empty.clone()]
        }
    );
    // A standalone drive asks for the set's tape.
    w.reach = Reach::Standalone { loaded: None };
    assert_eq!(w.choose(Some(0)), TapeChoice::Append(last));
}
