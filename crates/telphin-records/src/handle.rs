//! What a client is made of, whatever its kind: the state its clones share (configuration,
//! transport, the token cache in the client's own cell) and this handle's retry policy.

use std::sync::Arc;

use record_api::{RetryPolicy, Scope};
use record_model::RecordUuid;

use crate::core::Core;
use crate::download::DownloadOptions;
use crate::engine::{TokenState, Transfer};

/// The configuration of a client and the retry policy of one of its handles.
#[derive(Clone, Copy)]
pub(crate) struct Setup<'a> {
    pub(crate) core: &'a Core,
    pub(crate) policy: RetryPolicy,
}

impl<'a> Setup<'a> {
    /// The engine's state for one download into a sink that can be emptied (`resettable`) or
    /// not.
    pub(crate) fn transfer(
        self,
        scope: Scope,
        record_uuid: &RecordUuid,
        options: DownloadOptions,
        resettable: bool,
    ) -> Transfer<'a> {
        Transfer::new(
            self.core,
            scope,
            record_uuid,
            options,
            self.policy,
            resettable,
        )
    }
}

/// A client's parts; `L` is the executor's lock around the token cache.
pub(crate) struct Handle<T, L> {
    shared: Arc<Shared<T, L>>,
    policy: RetryPolicy,
}

struct Shared<T, L> {
    core: Core,
    transport: T,
    tokens: L,
}

impl<T, L> Clone for Handle<T, L> {
    fn clone(&self) -> Self {
        Handle {
            shared: Arc::clone(&self.shared),
            policy: self.policy,
        }
    }
}

impl<T, L> Handle<T, L> {
    /// A handle over `core` and `transport`, the token cache locked by `lock`.
    pub(crate) fn new(core: Core, transport: T, lock: impl FnOnce(TokenState) -> L) -> Self {
        let tokens = lock(TokenState::new(core.token_margin));
        let policy = core.retry;
        Handle {
            shared: Arc::new(Shared {
                core,
                transport,
                tokens,
            }),
            policy,
        }
    }

    pub(crate) fn core(&self) -> &Core {
        &self.shared.core
    }

    pub(crate) fn transport(&self) -> &T {
        &self.shared.transport
    }

    /// What the driver reads: the configuration and this handle's retry policy.
    pub(crate) fn setup(&self) -> Setup<'_> {
        Setup {
            core: &self.shared.core,
            policy: self.policy,
        }
    }

    pub(crate) fn tokens(&self) -> &L {
        &self.shared.tokens
    }

    /// A handle sharing everything but the retry policy.
    pub(crate) fn with_policy(&self, policy: RetryPolicy) -> Self {
        Handle {
            shared: Arc::clone(&self.shared),
            policy,
        }
    }

    /// The `Debug` form of a client named `name`: its configuration, never a secret.
    pub(crate) fn debug(&self, name: &str, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct(name)
            .field("config", &self.shared.core)
            .field("retry", &self.policy)
            .finish_non_exhaustive()
    }
}
