//! Waiting in async code without tying the client to one runtime.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

/// A boxed future that completes after a pause.
pub type SleepFuture = Pin<Box<dyn Future<Output = ()> + Send>>;

/// How the async client waits between retries.
///
/// With the `tokio` feature the default is tokio's timer; without it, a timer thread per
/// wait (retries are rare, so this costs little). Plug in your runtime's timer with
/// [`Client::with_sleep`](crate::Client::with_sleep).
pub trait AsyncSleep: Send + Sync + 'static {
    /// A future that completes after `duration`.
    fn sleep(&self, duration: Duration) -> SleepFuture;
}

impl<F, Fut> AsyncSleep for F
where
    F: Fn(Duration) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    fn sleep(&self, duration: Duration) -> SleepFuture {
        Box::pin(self(duration))
    }
}

/// The default timer.
#[derive(Debug, Clone, Copy, Default)]
pub struct DefaultSleep;

impl AsyncSleep for DefaultSleep {
    #[cfg(feature = "tokio")]
    fn sleep(&self, duration: Duration) -> SleepFuture {
        Box::pin(tokio::time::sleep(duration))
    }

    #[cfg(not(feature = "tokio"))]
    fn sleep(&self, duration: Duration) -> SleepFuture {
        Box::pin(thread_timer::Sleep::new(duration))
    }
}

#[cfg(not(feature = "tokio"))]
mod thread_timer {
    use std::future::Future;
    use std::pin::Pin;
    use std::sync::{Arc, Mutex};
    use std::task::{Context, Poll, Waker};
    use std::time::Duration;

    /// Whether the time is up, and whom to wake when it is.
    type Shared = Arc<Mutex<(bool, Option<Waker>)>>;

    /// A future completed by a thread that sleeps for it.
    pub(super) struct Sleep {
        duration: Duration,
        state: Option<Shared>,
    }

    impl Sleep {
        pub(super) fn new(duration: Duration) -> Self {
            Sleep {
                duration,
                state: None,
            }
        }
    }

    impl Future for Sleep {
        type Output = ();

        fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
            let duration = self.duration;
            let state = self.state.get_or_insert_with(|| {
                let state: Shared = Arc::new(Mutex::new((false, None)));
                let shared = state.clone();
                std::thread::spawn(move || {
                    std::thread::sleep(duration);
                    let mut guard = shared.lock().unwrap_or_else(|p| p.into_inner());
                    guard.0 = true;
                    if let Some(waker) = guard.1.take() {
                        waker.wake();
                    }
                });
                state
            });
            let mut guard = state.lock().unwrap_or_else(|p| p.into_inner());
            if guard.0 {
                Poll::Ready(())
            } else {
                guard.1 = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    }
}
