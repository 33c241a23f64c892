//! Finish barrier and producers: commit succeeds only after every producer
//! reported success explicitly. A producer that fails after its last chunk
//! was sent, or goes away without reporting, makes commit fail; a consumer
//! that fails while the producer is still sending neither deadlocks nor
//! hangs (a watchdog bounds every test).

mod format_util;

use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use crossbeam_channel::bounded;
use format_util::{chunk, media_label, small_config};
use pbs_tape::format::{
    scan_tape, ChunkWrite, FileTape, FormatError, MediaWriter, MemoryTape, ProducerToken,
    ScannedContent, TapeWrite,
};
use rand::Rng;

/// Run `f` in a thread; fail the test if it does not end within `limit`
/// (a hang is a failure, not a slow pass).
fn with_watchdog<F: FnOnce() + Send + 'static>(limit: Duration, f: F) {
    let (done_tx, done_rx) = mpsc::channel();
    let worker = thread::spawn(move || {
        f();
        let _ = done_tx.send(());
    });
    match done_rx.recv_timeout(limit) {
        Ok(()) => worker.join().expect("test thread"),
        Err(_) => {
            if worker.is_finished() {
                // The thread panicked: surface its panic.
                worker.join().expect("test thread");
            }
            panic!("deadlock or hang: not finished within {limit:?}");
        }
    }
}

enum Ending {
    Succeed,
    Fail,
    VanishWithoutReport,
}

/// A producer thread: sends `n` chunks, waits a random time, then ends as told.
fn spawn_producer(
    token: ProducerToken,
    n: u64,
    ending: Ending,
    tx: crossbeam_channel::Sender<(Vec<u8>, [u8; 32])>,
) -> thread::JoinHandle<()> {
    thread::spawn(move || {
        let mut rng = rand::thread_rng();
        for i in 0..n {
            if tx.send(chunk(i, 1000 + i as usize)).is_err() {
                token.fail("consumer went away");
                return;
            }
            if rng.gen_bool(0.3) {
                thread::sleep(Duration::from_micros(rng.gen_range(0..200)));
            }
        }
        drop(tx); // the channel closes before the outcome is known
        thread::sleep(Duration::from_micros(rng.gen_range(0..300)));
        match ending {
            Ending::Succeed => token.complete(Ok::<(), String>(())),
            Ending::Fail => token.fail("read error after the last chunk"),
            Ending::VanishWithoutReport => drop(token),
        }
    })
}

/// Consume everything into one chunk archive, finish, commit.
fn consume<T: TapeWrite>(
    writer: &mut MediaWriter<T>,
    rx: crossbeam_channel::Receiver<(Vec<u8>, [u8; 32])>,
) -> Result<Vec<pbs_tape::format::PendingArchive>, FormatError> {
    let mut archive = writer.start_chunk_archive("store")?;
    for (data, digest) in rx {
        match archive.add_chunk(&digest, &data)? {
            ChunkWrite::Stored { .. } => {}
            ChunkWrite::MediumFull { .. } => unreachable!("no early warning configured"),
        }
    }
    archive.finish()?;
    writer.commit()
}

#[test]
fn producer_failing_after_last_chunk_never_commits_1000_runs() {
    with_watchdog(Duration::from_secs(240), || {
        let dir = tempfile::tempdir().unwrap();
        let mut rng = rand::thread_rng();
        let mut failures = 0;
        for run in 0..1000 {
            let path = dir.path().join("tape.img");
            let mut tape = FileTape::create(&path).unwrap();
            tape.set_sync_on_flush(false);
            let mut writer = MediaWriter::new(tape, small_config()).unwrap();
            writer.write_media_label(&media_label("P00001L9")).unwrap();
            assert_eq!(writer.commit().unwrap().len(), 1);

            let ending = match rng.gen_range(0..10) {
                0 => Ending::Succeed,
                1..=2 => Ending::VanishWithoutReport,
                _ => Ending::Fail,
            };
            let expect_ok = matches!(ending, Ending::Succeed);
            let (tx, rx) = bounded(2);
            let n = rng.gen_range(1..8);
            let producer = spawn_producer(writer.register_producer("reader"), n, ending, tx);
            let result = consume(&mut writer, rx);
            producer.join().unwrap();
            match result {
                Ok(committed) => {
                    assert!(
                        expect_ok,
                        "run {run}: commit succeeded for a failed producer"
                    );
                    assert_eq!(committed.len(), 1);
                    assert_eq!(committed[0].digests.len() as u64, n);
                    // Read back: the committed archive is on tape.
                    let mut tape = writer.into_tape();
                    tape.rewind().unwrap();
                    let files: Vec<_> = scan_tape(&mut tape, 0).collect::<Result<_, _>>().unwrap();
                    match &files[1].content {
                        ScannedContent::ChunkArchive { digests, .. } => {
                            assert_eq!(digests, &committed[0].digests)
                        }
                        other => panic!("run {run}: {other:?}"),
                    }
                }
                Err(e) => {
                    assert!(!expect_ok, "run {run}: unexpected error {e}");
                    assert!(
                        matches!(
                            e,
                            FormatError::ProducerFailed { .. }
                                | FormatError::ProducerVanished { .. }
                        ),
                        "run {run}: {e:?}"
                    );
                    assert!(writer.is_poisoned());
                    assert!(
                        writer.commit().is_err(),
                        "run {run}: a retry must not succeed"
                    );
                    failures += 1;
                }
            }
        }
        assert!(failures > 500);
    });
}

#[test]
fn consumer_failing_while_producer_sends_does_not_hang() {
    with_watchdog(Duration::from_secs(60), || {
        for _ in 0..20 {
            // Hard end of medium after ~3 blocks: the consumer fails mid-stream.
            let tape = MemoryTape::new().with_capacity(3 * 64 * 1024);
            let mut writer = MediaWriter::new(tape, small_config()).unwrap();
            let producers = writer.producers().clone();
            let (tx, rx) = bounded(2);
            let producer = spawn_producer(
                writer.register_producer("reader"),
                10_000,
                Ending::Succeed,
                tx,
            );
            let result = consume(&mut writer, rx); // drops rx on error
            assert!(
                matches!(&result, Err(e) if e.is_end_of_medium()),
                "{result:?}"
            );
            producer.join().unwrap();
            // The producer saw the consumer go away and reported failure.
            assert!(matches!(
                producers.first_failure(),
                Some(FormatError::ProducerFailed { .. })
            ));
            assert!(writer.commit().is_err());
            assert!(writer.pending().is_empty());
        }
    });
}

#[test]
fn producer_still_running_blocks_commit_until_it_reports() {
    with_watchdog(Duration::from_secs(30), || {
        let mut writer = MediaWriter::new(MemoryTape::new(), small_config()).unwrap();
        let token = writer.register_producer("slow");
        writer.write_snapshot_archive("s", b"m").unwrap();
        let reporter = thread::spawn(move || {
            thread::sleep(Duration::from_millis(50));
            token.complete(Ok::<(), String>(()));
        });
        // checkpoint does not wait; commit waits for the outcome.
        assert_eq!(writer.checkpoint().unwrap().len(), 1);
        writer.write_snapshot_archive("t", b"n").unwrap();
        assert_eq!(writer.commit().unwrap().len(), 1);
        reporter.join().unwrap();
    });
}
