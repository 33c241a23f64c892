//! Model-based property test of the emulated drive: random WRITE, WRITE
//! FILEMARKS, REWIND, SPACE, LOCATE, READ, flush and close/reopen through
//! CDBs, checked against a plain list of records walked one step at a time.

mod emu_util;

use emu_util::*;
use pbs_tape::emulator::{open_device, EmulatedDevice};
use pbs_tape::scsi::{ScsiError, SenseKey};
use proptest::prelude::*;

#[derive(Debug, Clone)]
enum Op {
    Write(usize, u8),
    Filemark { immed: bool },
    Rewind,
    SpaceBlocks(i32),
    SpaceFilemarks(i32),
    Locate(u64),
    Read,
    Reopen,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        5 => (0usize..5000, any::<u8>()).prop_map(|(l, s)| Op::Write(l, s)),
        2 => any::<bool>().prop_map(|immed| Op::Filemark { immed }),
        1 => Just(Op::Rewind),
        2 => (-6i32..6).prop_map(Op::SpaceBlocks),
        2 => (-3i32..3).prop_map(Op::SpaceFilemarks),
        1 => (0u64..30).prop_map(Op::Locate),
        4 => Just(Op::Read),
        1 => Just(Op::Reopen),
    ]
}

#[derive(Debug, Clone, PartialEq)]
enum Rec {
    Block(Vec<u8>),
    Filemark,
}

/// What a command is expected to end with.
#[derive(Debug, PartialEq)]
enum Outcome {
    Good,
    Filemark(u64),
    Eod(u64),
    Bot(u64),
}

fn outcome(r: Result<pbs_tape::scsi::Completion, ScsiError>) -> Outcome {
    match r {
        Ok(_) => Outcome::Good,
        Err(ScsiError::CheckCondition { sense, .. }) => {
            let info = sense.information.unwrap_or(0);
            if sense.is(SenseKey::NoSense, 0, 1) && sense.filemark {
                Outcome::Filemark(info)
            } else if sense.is(SenseKey::BlankCheck, 0, 5) {
                Outcome::Eod(info)
            } else if sense.is(SenseKey::NoSense, 0, 4) {
                Outcome::Bot(info)
            } else {
                panic!("unexpected sense {sense}")
            }
        }
        Err(e) => panic!("unexpected error {e:?}"),
    }
}

struct Model {
    recs: Vec<Rec>,
    pos: usize,
}

impl Model {
    fn space_blocks(&mut self, n: i32) -> Outcome {
        let want = n.unsigned_abs() as u64;
        for done in 0..want {
            if n > 0 {
                match self.recs.get(self.pos) {
                    None => return Outcome::Eod(want - done),
                    Some(Rec::Filemark) => {
                        self.pos += 1;
                        return Outcome::Filemark(want - done);
                    }
                    Some(Rec::Block(_)) => self.pos += 1,
                }
            } else {
                if self.pos == 0 {
                    return Outcome::Bot(want - done);
                }
                if self.recs[self.pos - 1] == Rec::Filemark {
                    self.pos -= 1;
                    return Outcome::Filemark(want - done);
                }
                self.pos -= 1;
            }
        }
        Outcome::Good
    }

    fn space_filemarks(&mut self, n: i32) -> Outcome {
        let want = n.unsigned_abs() as u64;
        let mut passed = 0;
        while passed < want {
            if n > 0 {
                match self.recs.get(self.pos) {
                    None => return Outcome::Eod(want - passed),
                    Some(r) => {
                        self.pos += 1;
                        if *r == Rec::Filemark {
                            passed += 1;
                        }
                    }
                }
            } else {
                if self.pos == 0 {
                    return Outcome::Bot(want - passed);
                }
                self.pos -= 1;
                if self.recs[self.pos] == Rec::Filemark {
                    passed += 1;
                }
            }
        }
        Outcome::Good
    }
}

fn run(ops: Vec<Op>) -> Result<(), TestCaseError> {
    let fx = Fixture::standalone(64 << 20, 8 << 20);
    let mut dev: Option<EmulatedDevice> = Some(fx.open());
    let mut m = Model {
        recs: Vec::new(),
        pos: 0,
    };
    for op in ops {
        let d = dev.as_mut().unwrap();
        match op {
            Op::Write(len, seed) => {
                let b = block(len, seed);
                write(d, &b).unwrap();
                if len > 0 {
                    m.recs.truncate(m.pos);
                    m.recs.push(Rec::Block(b));
                    m.pos += 1;
                }
            }
            Op::Filemark { immed } => {
                wfm(d, 1, immed).unwrap();
                m.recs.truncate(m.pos);
                m.recs.push(Rec::Filemark);
                m.pos += 1;
            }
            Op::Rewind => {
                rewind(d).unwrap();
                m.pos = 0;
            }
            Op::SpaceBlocks(n) => {
                let got = outcome(space6(d, 0, n));
                prop_assert_eq!(got, m.space_blocks(n), "SPACE blocks {}", n);
            }
            Op::SpaceFilemarks(n) => {
                let got = outcome(space6(d, 1, n));
                prop_assert_eq!(got, m.space_filemarks(n), "SPACE filemarks {}", n);
            }
            Op::Locate(n) => {
                let got = outcome(locate16(d, 0, n));
                if n as usize <= m.recs.len() {
                    prop_assert_eq!(got, Outcome::Good);
                    m.pos = n as usize;
                } else {
                    prop_assert!(matches!(got, Outcome::Eod(_)));
                    m.pos = m.recs.len();
                }
            }
            Op::Read => {
                let r = read(d, 8192);
                match m.recs.get(m.pos).cloned() {
                    Some(Rec::Block(b)) => {
                        prop_assert_eq!(r.unwrap(), b);
                        m.pos += 1;
                    }
                    Some(Rec::Filemark) => {
                        prop_assert_eq!(
                            outcome(r.map(|_| unreachable!())),
                            Outcome::Filemark(8192)
                        );
                        m.pos += 1;
                    }
                    None => {
                        prop_assert_eq!(outcome(r.map(|_| unreachable!())), Outcome::Eod(8192));
                    }
                }
            }
            Op::Reopen => {
                drop(dev.take());
                dev = Some(open_device(&fx.drive_path()).unwrap());
            }
        }
        let (obj, file, bop, _) = position(dev.as_mut().unwrap());
        prop_assert_eq!(obj, m.pos as u64);
        let files = m.recs[..m.pos]
            .iter()
            .filter(|r| **r == Rec::Filemark)
            .count();
        prop_assert_eq!(file, files as u64);
        prop_assert_eq!(bop, m.pos == 0);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn drive_matches_a_record_list(ops in proptest::collection::vec(op(), 1..40)) {
        run(ops)?;
    }
}
