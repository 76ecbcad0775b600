//! The target's readiness probe as `/readyz` runs it: at most one probe in flight per PBX —
//! callers that come meanwhile share its answer — and an answer kept for a few seconds, so
//! that a burst of probes (a load balancer, a monitoring fleet) costs the target one small
//! object, not one each.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use futures_util::FutureExt as _;
use futures_util::future::{BoxFuture, Shared};
use record_backup::Target;

/// How long an answer is kept.
const KEPT: Duration = Duration::from_secs(5);
/// How long a probe may take.
const TIMEOUT: Duration = Duration::from_secs(10);

type Answer = Result<(), String>;

#[derive(Default)]
enum State {
    #[default]
    None,
    /// A probe runs (in a task of its own: a caller that goes away does not stop it).
    Running(Shared<BoxFuture<'static, Answer>>),
    Done(Instant, Answer),
}

/// One PBX's probe.
#[derive(Default)]
pub(crate) struct Probe {
    state: Mutex<State>,
}

impl Probe {
    /// Whether `target` takes an object now: the kept answer, the answer of the probe in
    /// flight, or a new probe's. No lock is held while it waits.
    pub(crate) async fn check(&self, target: &Target) -> Answer {
        let running = {
            let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
            match &*state {
                State::Done(at, answer) if at.elapsed() < KEPT => return answer.clone(),
                State::Running(running) => running.clone(),
                _ => {
                    let target = target.clone();
                    let task = tokio::spawn(async move {
                        match tokio::time::timeout(TIMEOUT, target.probe()).await {
                            Ok(Ok(())) => Ok(()),
                            Ok(Err(error)) => Err(format!("the target is not writable: {error}")),
                            Err(_) => Err(format!(
                                "the target did not answer within {} s",
                                TIMEOUT.as_secs()
                            )),
                        }
                    });
                    let running = async move {
                        task.await
                            .unwrap_or_else(|error| Err(format!("the probe failed: {error}")))
                    }
                    .boxed()
                    .shared();
                    *state = State::Running(running.clone());
                    running
                }
            }
        };
        let answer = running.await;
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        if matches!(&*state, State::Running(_)) {
            *state = State::Done(Instant::now(), answer.clone());
        }
        answer
    }
}
