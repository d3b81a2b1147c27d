//! The accept loop: a cap on open connections, a header-read timeout, an
//! idle timeout, and accept errors (`EMFILE`) that pause the loop instead of
//! ending or spinning it.
//!
//! `axum::serve` offers none of these, so connections are served here with
//! hyper's HTTP/1.1 builder. Each connection holds a permit of a semaphore
//! of `max-connections`; at the cap the loop stops accepting (the kernel's
//! backlog holds the rest) until one closes. hyper closes a connection whose
//! request head is not complete within `header-read-timeout-secs` of opening
//! or of its previous response; a watchdog closes one with no request
//! running and no byte read or written for `idle-timeout-secs` (a client
//! that stops reading its response, or trickles a body). On shutdown the
//! loop stops accepting, every connection closes after its current
//! response, and [`serve`] returns when all have. No HTTP/2, no TLS.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;
use tower::ServiceExt;

/// The connection limits, from `[limits]`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ConnLimits {
    pub(crate) max_connections: usize,
    pub(crate) header_read_timeout: Duration,
    pub(crate) idle_timeout: Duration,
}

/// How long the loop waits after an accept error that is not the peer's
/// (out of file descriptors, out of memory) before trying again.
const ACCEPT_PAUSE: Duration = Duration::from_millis(200);

/// Serves `app` on `listener` until `shutdown` resolves, then waits for every
/// connection to close.
pub(crate) async fn serve(
    listener: TcpListener,
    app: Router,
    limits: ConnLimits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) {
    let permits = Arc::new(Semaphore::new(limits.max_connections));
    let (stop, stopped) = watch::channel(false);
    tokio::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            () = &mut shutdown => break,
            permit = permits.clone().acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => break,
            },
        };
        let stream = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    pause_after(&e).await;
                    continue;
                }
            },
        };
        tokio::spawn(connection(stream, app.clone(), limits, permit, stopped.clone()));
    }
    drop(listener);
    let _ = stop.send(true);
    // Every connection holds a permit until it closes.
    let all = u32::try_from(limits.max_connections).unwrap_or(u32::MAX);
    let _ = permits.acquire_many(all).await;
}

/// After an accept error: nothing for a peer that went away, a pause (and
/// a log line) for anything else, such as `EMFILE`.
async fn pause_after(e: &io::Error) {
    if matches!(
        e.kind(),
        io::ErrorKind::ConnectionAborted | io::ErrorKind::ConnectionReset | io::ErrorKind::ConnectionRefused
    ) {
        return;
    }
    tracing::error!(
        "cannot accept a connection ({e}); pausing {} ms",
        ACCEPT_PAUSE.as_millis()
    );
    tokio::time::sleep(ACCEPT_PAUSE).await;
}

/// Serves one connection until it ends, idles out, or shutdown closes it.
async fn connection(
    stream: TcpStream,
    app: Router,
    limits: ConnLimits,
    _permit: OwnedSemaphorePermit,
    mut stopped: watch::Receiver<bool>,
) {
    let activity = Arc::new(Activity::new());
    let io = TokioIo::new(Watched {
        inner: stream,
        activity: activity.clone(),
    });
    let service = {
        let activity = activity.clone();
        hyper::service::service_fn(move |request: hyper::Request<Incoming>| {
            let running = Running::start(&activity);
            let response = app.clone().oneshot(request.map(axum::body::Body::new));
            async move {
                let response = response.await;
                drop(running);
                response
            }
        })
    };
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .keep_alive(true);
    let conn = builder.serve_connection(io, service);
    tokio::pin!(conn);
    let mut stopping = false;
    loop {
        tokio::select! {
            result = conn.as_mut() => {
                if let Err(e) = result {
                    tracing::debug!("connection closed: {e}");
                }
                break;
            }
            _ = stopped.changed(), if !stopping => {
                stopping = true;
                conn.as_mut().graceful_shutdown();
            }
            () = tokio::time::sleep_until(activity.next_check(limits.idle_timeout)) => {
                if activity.is_idle(limits.idle_timeout) {
                    tracing::debug!("closing an idle connection");
                    break;
                }
            }
        }
    }
}

/// When a connection last moved a byte, and how many requests it is running.
struct Activity {
    start: Instant,
    /// Milliseconds after `start`.
    last: AtomicU64,
    running: AtomicUsize,
}

impl Activity {
    fn new() -> Activity {
        Activity {
            start: Instant::now(),
            last: AtomicU64::new(0),
            running: AtomicUsize::new(0),
        }
    }

    fn touch(&self) {
        let now = u64::try_from(self.start.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last.store(now, Ordering::Relaxed);
    }

    fn quiet_for(&self) -> Duration {
        let last = Duration::from_millis(self.last.load(Ordering::Relaxed));
        self.start.elapsed().saturating_sub(last)
    }

    fn is_idle(&self, idle: Duration) -> bool {
        self.running.load(Ordering::Relaxed) == 0 && self.quiet_for() >= idle
    }

    /// When to look again: when the quiet would reach `idle`, or a full
    /// `idle` from now while a request runs.
    fn next_check(&self, idle: Duration) -> Instant {
        let now = Instant::now();
        let quiet = self.quiet_for();
        if self.running.load(Ordering::Relaxed) > 0 || quiet >= idle {
            now + idle
        } else {
            now + (idle - quiet)
        }
    }
}

/// A request being handled; the connection is not idle meanwhile.
struct Running(Arc<Activity>);

impl Running {
    fn start(activity: &Arc<Activity>) -> Running {
        activity.running.fetch_add(1, Ordering::Relaxed);
        activity.touch();
        Running(activity.clone())
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.0.touch();
        self.0.running.fetch_sub(1, Ordering::Relaxed);
    }
}

/// A stream that records when bytes move.
struct Watched {
    inner: TcpStream,
    activity: Arc<Activity>,
}

impl AsyncRead for Watched {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let polled = Pin::new(&mut this.inner).poll_read(cx, buf);
        if buf.filled().len() > before {
            this.activity.touch();
        }
        polled
    }
}

impl AsyncWrite for Watched {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, data: &[u8]) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.inner).poll_write(cx, data);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            this.activity.touch();
        }
        polled
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.inner).poll_write_vectored(cx, bufs);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            this.activity.touch();
        }
        polled
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}
