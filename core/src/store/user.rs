//! The user's own lists (allow, block), protected numbers and the verdict policy: small edits
//! that swap in a copy of the live view.

use super::view::View;
use super::{BUILTIN_PROTECTED, Store, StoreError, UserList};
use crate::identifier::{Identifier, normalize};
use crate::key::Key;
use crate::kind::Kind;
use crate::verdict::Policy;
use rusqlite::{Connection, params};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

impl UserList {
    fn as_str(self) -> &'static str {
        match self {
            UserList::Allow => "allow",
            UserList::Block => "block",
        }
    }
}

impl Store {
    /// Changes the verdict policy; lookups use it from the next call. Not persisted: the app
    /// passes its policy in [`super::StoreOptions`] on every open. Works on a read-only store.
    pub fn set_policy(&self, policy: Policy) -> Result<(), StoreError> {
        if self.inner.writer.is_none() {
            self.swap_live(|view| view.policy = policy);
            return Ok(());
        }
        let _w = self.writer()?;
        self.swap_live(|view| view.policy = policy);
        Ok(())
    }

    /// Swaps in a copy of the live view changed by `edit`. Callers hold the writer guard (or
    /// have no writer), so no other writer swaps in between.
    fn swap_live(&self, edit: impl FnOnce(&mut View)) {
        let mut view = (*self.load_full_view()).clone();
        edit(&mut view);
        self.inner.live.store(Arc::new(view));
    }

    fn set_user(&self, id: &Identifier, list: Option<UserList>) -> Result<bool, StoreError> {
        let mut w = self.writer()?;
        let key = id.key().into_bytes();
        let tx = w.conn.transaction()?;
        let n = match list {
            Some(l) => tx.execute(
                "INSERT INTO user_list (key, list) VALUES (?1, ?2)
                 ON CONFLICT (key) DO UPDATE SET list = excluded.list",
                params![key, l.as_str()],
            )?,
            None => tx.execute("DELETE FROM user_list WHERE key = ?1", params![key])?,
        };
        tx.commit()?;
        self.swap_live(|view| {
            let user = Arc::make_mut(&mut view.user);
            match list {
                Some(l) => {
                    user.insert(key, l);
                }
                None => {
                    user.remove(&key);
                }
            }
        });
        drop(w);
        Ok(n > 0)
    }

    /// Puts an identifier on the user's allow list (replacing a block entry).
    pub fn allow_user(&self, id: &Identifier) -> Result<(), StoreError> {
        self.set_user(id, Some(UserList::Allow)).map(|_| ())
    }

    /// Puts an identifier on the user's block list (replacing an allow entry).
    pub fn block_user(&self, id: &Identifier) -> Result<(), StoreError> {
        self.set_user(id, Some(UserList::Block)).map(|_| ())
    }

    /// Takes an identifier off the user's lists; `true` if it was on one.
    pub fn remove_user_entry(&self, id: &Identifier) -> Result<bool, StoreError> {
        self.set_user(id, None)
    }

    /// Which user list an identifier is on, if any.
    pub fn user_entry(&self, id: &Identifier) -> Option<UserList> {
        self.load().user.get(id.key().as_bytes()).copied()
    }

    /// Protects an identifier (typically the user's bank or a family member's number): it is
    /// always allowed, whatever the blocklist or the user's block list say.
    pub fn add_protected(&self, id: &Identifier) -> Result<(), StoreError> {
        self.set_protected(id, true).map(|_| ())
    }

    /// Removes an app-added protected identifier; `true` if it was protected. The built-in
    /// numbers ([`BUILTIN_PROTECTED`]) cannot be removed.
    pub fn remove_protected(&self, id: &Identifier) -> Result<bool, StoreError> {
        self.set_protected(id, false)
    }

    fn set_protected(&self, id: &Identifier, protect: bool) -> Result<bool, StoreError> {
        let key = id.key().into_bytes();
        let builtin = BUILTIN_PROTECTED.iter().any(|c| {
            protected_key(c) == key
                || normalize(Kind::Phone, c).is_ok_and(|b| b.key().as_bytes() == key.as_slice())
        });
        if !protect && builtin {
            return Err(StoreError::BuiltinProtected);
        }
        let mut w = self.writer()?;
        let tx = w.conn.transaction()?;
        let n = if protect {
            tx.execute(
                "INSERT OR IGNORE INTO protected (key) VALUES (?1)",
                params![key],
            )?
        } else {
            tx.execute("DELETE FROM protected WHERE key = ?1", params![key])?
        };
        tx.commit()?;
        self.swap_live(|view| {
            let protected = Arc::make_mut(&mut view.protected);
            if protect {
                protected.insert(key);
            } else {
                protected.remove(&key);
            }
        });
        drop(w);
        Ok(n > 0)
    }
}

fn protected_key(canonical: &str) -> Vec<u8> {
    Key::new(Kind::Phone, canonical).into_bytes()
}

pub(super) fn load_user_lists(conn: &Connection) -> Result<HashMap<Vec<u8>, UserList>, StoreError> {
    let mut stmt = conn.prepare("SELECT key, list FROM user_list")?;
    let rows = stmt.query_map([], |r| {
        Ok((r.get::<_, Vec<u8>>(0)?, r.get::<_, String>(1)?))
    })?;
    let mut out = HashMap::new();
    for row in rows {
        let (k, l) = row?;
        let list = if l == "allow" {
            UserList::Allow
        } else {
            UserList::Block
        };
        out.insert(k, list);
    }
    Ok(out)
}

pub(super) fn load_protected(conn: &Connection) -> Result<HashSet<Vec<u8>>, StoreError> {
    let mut out: HashSet<Vec<u8>> = BUILTIN_PROTECTED.iter().map(|c| protected_key(c)).collect();
    // Also whatever form the normalizer gives these numbers, so a lookup of "110" is protected
    // even if the canonical rules for short numbers ever change.
    for c in BUILTIN_PROTECTED {
        if let Ok(id) = normalize(Kind::Phone, c) {
            out.insert(id.key().into_bytes());
        }
    }
    let mut stmt = conn.prepare("SELECT key FROM protected")?;
    let rows = stmt.query_map([], |r| r.get::<_, Vec<u8>>(0))?;
    for row in rows {
        out.insert(row?);
    }
    Ok(out)
}
