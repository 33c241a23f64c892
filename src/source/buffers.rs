//! Chunk buffers that go back to their pool when dropped.
//!
//! The source reader copies each chunk into a [`PooledBuf`] taken from a
//! [`BufferPool`]; whoever drops the chunk (the tape writer after writing
//! it, or any error path) returns the buffer. At most `limit` buffers exist
//! per pool, so the chunks in flight are bounded however the stages are
//! scheduled, and recycled buffers spare the allocator and the kernel the
//! page faults of fresh multi-MiB allocations.

use crossbeam_channel::{bounded, select, Receiver, Sender};

/// A pool of at most `limit` chunk buffers.
#[derive(Debug)]
pub(crate) struct BufferPool {
    free: Receiver<Vec<u8>>,
    home: Sender<Vec<u8>>,
    created: usize,
    limit: usize,
}

/// A buffer of a [`BufferPool`]; returns there when dropped.
#[derive(Debug)]
pub(crate) struct PooledBuf {
    data: Vec<u8>,
    home: Sender<Vec<u8>>,
}

impl BufferPool {
    pub(crate) fn new(limit: usize) -> Self {
        let limit = limit.max(1);
        let (home, free) = bounded(limit);
        BufferPool {
            free,
            home,
            created: 0,
            limit,
        }
    }

    /// A buffer holding a copy of `data`: a returned one, a new one while
    /// fewer than `limit` exist, else the next one returned. `None` when
    /// `cancel` disconnects first (the consumer is gone).
    pub(crate) fn take_copy(&mut self, data: &[u8], cancel: &Receiver<()>) -> Option<PooledBuf> {
        let mut buf = match self.free.try_recv() {
            Ok(buf) => buf,
            Err(_) if self.created < self.limit => {
                self.created += 1;
                Vec::new()
            }
            Err(_) => select! {
                recv(self.free) -> buf => buf.ok()?,
                recv(cancel) -> _ => return None,
            },
        };
        buf.clear();
        // Exactly: doubling would let every buffer grow towards twice the
        // largest chunk.
        buf.reserve_exact(data.len());
        buf.extend_from_slice(data);
        Some(PooledBuf {
            data: buf,
            home: self.home.clone(),
        })
    }
}

impl PooledBuf {
    /// A buffer of no pool (a chunk read back from tape to be written
    /// again): freed when dropped.
    pub(crate) fn detached(data: Vec<u8>) -> PooledBuf {
        let (home, _) = bounded(0);
        PooledBuf { data, home }
    }
}

impl std::ops::Deref for PooledBuf {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.data
    }
}

impl Drop for PooledBuf {
    fn drop(&mut self) {
        // Fails only when the pool is gone (or full, which cannot happen):
        // then the buffer is simply freed.
        let _ = self.home.try_send(std::mem::take(&mut self.data));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buffers_are_bounded_and_recycled() {
        let mut pool = BufferPool::new(2);
        let (_keep, cancel) = bounded::<()>(0);
        let a = pool.take_copy(b"one", &cancel).unwrap();
        let b = pool.take_copy(b"two", &cancel).unwrap();
        assert_eq!((&a[..], &b[..]), (&b"one"[..], &b"two"[..]));
        let a_ptr = a.as_ptr();
        drop(a);
        let c = pool.take_copy(b"3", &cancel).unwrap();
        assert_eq!(&c[..], b"3");
        assert_eq!(c.as_ptr(), a_ptr, "the returned buffer is reused");
        assert_eq!(pool.created, 2);
    }

    #[test]
    fn an_exhausted_pool_gives_up_when_cancelled() {
        let mut pool = BufferPool::new(1);
        let (keep, cancel) = bounded::<()>(0);
        let _held = pool.take_copy(b"x", &cancel).unwrap();
        drop(keep);
        assert!(pool.take_copy(b"y", &cancel).is_none());
    }
}
