//! The data directory: everything the server keeps, in one place an operator can back up.
//!
//! ```text
//! <data_dir>/server.sqlite        tips, proposals, tokens, audit log, releases (SQLite, WAL)
//! <data_dir>/keys/signing.key     the Ed25519 signing key (mode 0600; never served, never logged)
//! <data_dir>/keys/trust.txt       the public trust file to give app developers
//! <data_dir>/releases/v1/manifest the signed manifest currently served
//! <data_dir>/releases/artifacts/  immutable content-named artifacts
//! <data_dir>/releases/publisher/  core's publisher state (never served)
//! <data_dir>/server.toml          optional configuration
//! ```

use fraudshield_core::release::keys::{KeyFileError, KeySet, SigningKey};
use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};

/// Paths inside a data directory.
#[derive(Debug, Clone)]
pub struct DataDir {
    root: PathBuf,
}

/// Why the data directory could not be used.
#[derive(Debug, thiserror::Error)]
pub enum DataDirError {
    /// A file could not be read or written.
    #[error("{what}: {source}")]
    Io {
        /// Which file or directory.
        what: String,
        /// The error.
        source: std::io::Error,
    },
    /// The key file is malformed.
    #[error("signing key file: {0}")]
    Key(#[from] KeyFileError),
    /// `init` on a directory that already holds a server.
    #[error("{0} is already initialized (server.sqlite exists)")]
    AlreadyInitialized(String),
    /// Another process (a running server) holds the directory's lock.
    #[error("{0} is in use by a running server: stop it, or do this through its API")]
    Busy(String),
    /// `serve` on a directory that was never initialized.
    #[error("{0} is not initialized: run `fraudshield-server init` first")]
    NotInitialized(String),
}

fn io(what: &Path) -> impl FnOnce(std::io::Error) -> DataDirError + '_ {
    move |source| DataDirError::Io {
        what: what.display().to_string(),
        source,
    }
}

impl DataDir {
    /// The data directory at `root` (no I/O).
    pub fn new(root: &Path) -> DataDir {
        DataDir {
            root: root.to_path_buf(),
        }
    }

    /// The directory itself.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The SQLite database.
    pub fn database(&self) -> PathBuf {
        self.root.join(crate::db::DATABASE_FILE)
    }

    /// The signing key file.
    pub fn signing_key(&self) -> PathBuf {
        self.root.join("keys").join("signing.key")
    }

    /// The public trust file.
    pub fn trust_file(&self) -> PathBuf {
        self.root.join("keys").join("trust.txt")
    }

    /// The releases directory (what is served).
    pub fn releases(&self) -> PathBuf {
        self.root.join("releases")
    }

    /// Whether `init` has run here.
    pub fn is_initialized(&self) -> bool {
        self.database().exists() && self.signing_key().exists()
    }

    /// Fails unless `init` has run here.
    pub fn require_initialized(&self) -> Result<(), DataDirError> {
        if self.is_initialized() {
            Ok(())
        } else {
            Err(DataDirError::NotInitialized(
                self.root.display().to_string(),
            ))
        }
    }

    /// Takes the directory's exclusive lock (`server.lock`), held until the returned guard is
    /// dropped: `serve` holds it for its lifetime, and the commands that cut releases or change
    /// keys take it, so two publishers never work on one directory.
    pub fn lock(&self) -> Result<DirLock, DataDirError> {
        let path = self.root.join("server.lock");
        let file = fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(io(&path))?;
        match file.try_lock() {
            Ok(()) => Ok(DirLock(file)),
            Err(fs::TryLockError::WouldBlock) => {
                Err(DataDirError::Busy(self.root.display().to_string()))
            }
            Err(fs::TryLockError::Error(e)) => Err(io(&path)(e)),
        }
    }

    /// Creates the directories, a new signing key (owner-only) and the trust file. Refuses a
    /// directory that already holds a server.
    pub fn create(&self) -> Result<SigningKey, DataDirError> {
        if self.database().exists() {
            return Err(DataDirError::AlreadyInitialized(
                self.root.display().to_string(),
            ));
        }
        let keys = self.root.join("keys");
        fs::create_dir_all(&keys).map_err(io(&keys))?;
        fs::create_dir_all(self.releases()).map_err(io(&self.root))?;
        restrict_dir(&keys).map_err(io(&keys))?;
        let key = SigningKey::generate()?;
        write_secret(&self.signing_key(), key.to_file_text().as_bytes())
            .map_err(io(&self.signing_key()))?;
        self.write_trust(&KeySet::new(vec![key.public()], 1)?)?;
        Ok(key)
    }

    /// Writes the public trust file for `keys`.
    pub fn write_trust(&self, keys: &KeySet) -> Result<(), DataDirError> {
        fraudshield_core::release::publisher::write_atomic(
            &self.trust_file(),
            keys.to_trust_file().as_bytes(),
        )
        .map_err(io(&self.trust_file()))
    }

    /// Reads the signing key.
    pub fn load_signing_key(&self) -> Result<SigningKey, DataDirError> {
        let path = self.signing_key();
        let text = fs::read_to_string(&path).map_err(io(&path))?;
        Ok(SigningKey::from_file_text(&text)?)
    }
}

/// The data directory's lock; released when dropped (or when the process ends).
#[derive(Debug)]
pub struct DirLock(#[allow(dead_code)] fs::File);

#[cfg(unix)]
fn restrict_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt as _;
    fs::set_permissions(dir, fs::Permissions::from_mode(0o700))
}

#[cfg(not(unix))]
fn restrict_dir(_dir: &Path) -> std::io::Result<()> {
    Ok(())
}

/// Writes a new secret file readable by its owner only (0600 from creation, never wider),
/// fsynced. Refuses to overwrite.
pub fn write_secret(path: &Path, data: &[u8]) -> std::io::Result<()> {
    let mut opts = fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        opts.mode(0o600);
    }
    let mut f = opts.open(path)?;
    f.write_all(data)?;
    f.sync_all()?;
    if let Some(parent) = path.parent() {
        fs::File::open(parent)?.sync_all()?;
    }
    Ok(())
}
