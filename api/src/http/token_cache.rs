//! Recently seen tokens, so that a busy caller does not cost a token lookup per request.
//!
//! An entry lives [`TokenCache::TTL`]; a revocation through this server empties the cache
//! at once, one made elsewhere (another server, `sablier token revoke`) takes effect here
//! within the TTL. Unknown tokens are never cached.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use sablier_store::access::{TokenGrant, token_hash};

/// At most this many tokens are remembered; past it the cache starts afresh.
const CAPACITY: usize = 10_000;

#[derive(Default)]
pub struct TokenCache {
    entries: Mutex<HashMap<String, (TokenGrant, Instant)>>,
}

impl TokenCache {
    /// How long a looked-up token is trusted without asking the database again.
    pub const TTL: Duration = Duration::from_secs(10);

    pub fn get(&self, secret: &str) -> Option<TokenGrant> {
        let entries = self.entries.lock().expect("token cache poisoned");
        entries
            .get(&token_hash(secret))
            .filter(|(_, seen)| seen.elapsed() < Self::TTL)
            .map(|(grant, _)| grant.clone())
    }

    pub fn remember(&self, secret: &str, grant: &TokenGrant) {
        let mut entries = self.entries.lock().expect("token cache poisoned");
        if entries.len() >= CAPACITY {
            entries.clear();
        }
        entries.insert(token_hash(secret), (grant.clone(), Instant::now()));
    }

    /// Forgets every token (after a revocation).
    pub fn clear(&self) {
        self.entries.lock().expect("token cache poisoned").clear();
    }
}
