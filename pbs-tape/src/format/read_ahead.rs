//! [`ReadAhead`]: a [`TapeRead`] that reads the next blocks in a background
//! thread while the caller verifies the current ones, so a drive keeps
//! streaming during restores (a drive starved of reads stops and
//! repositions: shoe-shining).
//!
//! The thread reads up to `depth` blocks ahead, but never past a filemark
//! the caller has not consumed yet, nor after end of data or an error.

use std::thread::JoinHandle;

use crossbeam_channel::{bounded, Receiver, Sender};

use super::constants::MAX_BLOCK_SIZE;
use super::tape::{ReadOutcome, TapeIoError, TapeLimits, TapeRead};

enum Event {
    Block(Vec<u8>, usize),
    Filemark,
    EndOfData,
    Error(TapeIoError),
}

/// Read-ahead wrapper; see the module documentation.
pub struct ReadAhead<R: TapeRead + Send + 'static> {
    events: Option<Receiver<Event>>,
    free: Option<Sender<Vec<u8>>>,
    resume: Option<Sender<()>>,
    worker: Option<JoinHandle<R>>,
    max_block: usize,
    name: String,
    /// The worker paused after a filemark, end of data or an error.
    paused: bool,
}

impl<R: TapeRead + Send + 'static> ReadAhead<R> {
    /// Start reading ahead `depth` blocks (at least 1) from the tape's
    /// current position.
    pub fn new(tape: R, depth: usize) -> Self {
        let depth = depth.max(1);
        let max_block = tape.max_block_size().min(MAX_BLOCK_SIZE);
        let name = tape.device_name();
        let (event_tx, event_rx) = bounded(depth);
        let (free_tx, free_rx) = bounded(depth);
        let (resume_tx, resume_rx) = bounded(1);
        for _ in 0..depth {
            // Cannot fail: the channel has room for `depth` buffers.
            let _ = free_tx.send(Vec::new());
        }
        let worker =
            std::thread::spawn(move || read_loop(tape, max_block, event_tx, free_rx, resume_rx));
        ReadAhead {
            events: Some(event_rx),
            free: Some(free_tx),
            resume: Some(resume_tx),
            worker: Some(worker),
            max_block,
            name,
            paused: false,
        }
    }

    /// Stop the thread and give the tape back. The tape may be up to
    /// `depth` blocks past what was consumed (never past an unconsumed
    /// filemark): reposition before further use.
    pub fn into_inner(mut self) -> Result<R, TapeIoError> {
        self.stop()
    }

    fn stop(&mut self) -> Result<R, TapeIoError> {
        // Dropping the channels ends the worker's loop.
        self.events.take();
        self.free.take();
        self.resume.take();
        let worker = self.worker.take().ok_or_else(|| self.gone())?;
        worker.join().map_err(|_| TapeIoError::ReadAhead {
            device: self.name.clone(),
            message: "the thread panicked".into(),
        })
    }

    fn gone(&self) -> TapeIoError {
        TapeIoError::ReadAhead {
            device: self.name.clone(),
            message: "the thread is gone".into(),
        }
    }
}

fn read_loop<R: TapeRead>(
    mut tape: R,
    max_block: usize,
    events: Sender<Event>,
    free: Receiver<Vec<u8>>,
    resume: Receiver<()>,
) -> R {
    // A buffer not handed out (filemark, end of data, error) is kept here.
    let mut spare: Option<Vec<u8>> = None;
    loop {
        let mut buf = match spare.take() {
            Some(buf) => buf,
            None => match free.recv() {
                Ok(buf) => buf,
                Err(_) => return tape,
            },
        };
        if buf.len() != max_block {
            // Zeroed allocation: pages become resident only as blocks fill them.
            buf = vec![0u8; max_block];
        }
        let event = match tape.read_block(&mut buf) {
            Ok(ReadOutcome::Block(len)) => Event::Block(buf, len),
            outcome => {
                spare = Some(buf);
                match outcome {
                    Ok(ReadOutcome::Filemark) => Event::Filemark,
                    Err(e) => Event::Error(e),
                    _ => Event::EndOfData,
                }
            }
        };
        let pause = !matches!(event, Event::Block(..));
        if events.send(event).is_err() {
            return tape;
        }
        if pause && resume.recv().is_err() {
            return tape;
        }
    }
}

impl<R: TapeRead + Send + 'static> TapeLimits for ReadAhead<R> {
    fn max_block_size(&self) -> usize {
        self.max_block
    }
    fn device_name(&self) -> String {
        self.name.clone()
    }
}

impl<R: TapeRead + Send + 'static> TapeRead for ReadAhead<R> {
    fn read_block(&mut self, buf: &mut [u8]) -> Result<ReadOutcome, TapeIoError> {
        if self.paused {
            let resume = self.resume.as_ref().ok_or_else(|| self.gone())?;
            resume.send(()).map_err(|_| self.gone())?;
            self.paused = false;
        }
        let events = self.events.as_ref().ok_or_else(|| self.gone())?;
        let event = events.recv().map_err(|_| self.gone())?;
        match event {
            Event::Block(block, len) => {
                let result = if len > buf.len() {
                    Err(TapeIoError::BlockLargerThanBuffer {
                        device: self.name.clone(),
                        block: len,
                        buffer: buf.len(),
                    })
                } else {
                    buf[..len].copy_from_slice(&block[..len]);
                    Ok(ReadOutcome::Block(len))
                };
                if let Some(free) = &self.free {
                    let _ = free.send(block);
                }
                result
            }
            Event::Filemark => {
                self.paused = true;
                Ok(ReadOutcome::Filemark)
            }
            Event::EndOfData => {
                self.paused = true;
                Ok(ReadOutcome::EndOfData)
            }
            Event::Error(e) => {
                self.paused = true;
                Err(e)
            }
        }
    }
}

impl<R: TapeRead + Send + 'static> Drop for ReadAhead<R> {
    fn drop(&mut self) {
        if self.worker.is_some() {
            let _ = self.stop();
        }
    }
}
