//! Crash-safe file writes, in one place: write a temp file next to the target, fsync it, rename
//! it over the target, fsync the directory.
//!
//! After [`write`] returns, the new content survives a power loss; if the process dies before
//! that, the target holds its old content (or does not exist) and at most a temp file is left,
//! which its owner removes on its next start. A reader never sees a half-written target: rename
//! within one directory is atomic on POSIX file systems.
//!
//! [`write_with`] is the same for content produced as a stream (a snapshot being built);
//! [`rename`] is the second half on its own, for callers that check the temp file before it may
//! replace the target.
//!
//! ```
//! let dir = tempfile::tempdir().unwrap();
//! let path = dir.path().join("state");
//! fraudshield_core::durable::write(&path, b"v1").unwrap();
//! fraudshield_core::durable::write(&path, b"v2").unwrap();
//! assert_eq!(std::fs::read(&path).unwrap(), b"v2");
//! ```

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// The temp file [`write`] and [`write_with`] use for `path`: the same directory, the file name
/// with `.tmp` appended. A crash can leave it behind; the next writer truncates it.
pub fn temp_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".tmp");
    path.with_file_name(name)
}

/// Makes renames and unlinks in `dir` durable (a no-op where directories cannot be opened).
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        File::open(dir)?.sync_all()?;
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
    }
    Ok(())
}

/// Renames `tmp` (already fsynced) over `path` and fsyncs the directory of `path`.
pub fn rename(tmp: &Path, path: &Path) -> io::Result<()> {
    fs::rename(tmp, path)?;
    sync_dir(parent_of(path))
}

/// Replaces `path` with `data` durably (see the [module docs](self)); creates the parent
/// directory if missing.
pub fn write(path: &Path, data: &[u8]) -> io::Result<()> {
    write_with(path, |f| f.write_all(data))
}

/// Like [`write`], with the content written by `fill` into the temp file. If `fill` fails, the
/// temp file is removed, the target is untouched and `fill`'s error is returned.
pub fn write_with<T, E: From<io::Error>>(
    path: &Path,
    fill: impl FnOnce(&mut File) -> Result<T, E>,
) -> Result<T, E> {
    fs::create_dir_all(parent_of(path))?;
    let tmp = temp_path(path);
    let result = (|| {
        let mut file = File::create(&tmp)?;
        let out = fill(&mut file)?;
        file.sync_all()?;
        Ok(out)
    })();
    match result {
        Ok(out) => {
            rename(&tmp, path)?;
            Ok(out)
        }
        Err(e) => {
            let _ = fs::remove_file(&tmp);
            Err(e)
        }
    }
}

fn parent_of(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_failed_fill_leaves_the_old_content_and_no_temp_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub").join("f");
        write(&path, b"old").unwrap();
        let r: io::Result<()> = write_with(&path, |f| {
            f.write_all(b"half")?;
            Err(io::Error::other("source failed"))
        });
        assert!(r.is_err());
        assert_eq!(fs::read(&path).unwrap(), b"old");
        assert!(!temp_path(&path).exists());
    }

    #[test]
    fn temp_path_is_next_to_the_target() {
        let p = Path::new("/a/b/base-1.fst");
        assert_eq!(temp_path(p), Path::new("/a/b/base-1.fst.tmp"));
    }
}
