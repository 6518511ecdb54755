//! Publishing releases to an S3-compatible object store, so a CDN in front of the bucket
//! serves every phone while the server only writes.
//!
//! ## Layout
//! The bucket mirrors the local release directory under `object_store.prefix`:
//! `<prefix>/v1/manifest` and `<prefix>/artifacts/<sha256>.fsw`. A phone syncs from
//! `https://<cdn or bucket URL>/<prefix>/` exactly as from the server itself: the client
//! protocol is these two kinds of path.
//!
//! ## Order: artifacts first, the manifest last
//! [`ObjectStoreSink::release_written`] uploads every artifact the manifest names that the
//! bucket does not hold yet (content-addressed and immutable:
//! `Cache-Control: public, max-age=31536000, immutable`; each file's size and SHA-256 are
//! checked against the signed manifest before it leaves the server), and only when all of
//! them are there, the manifest (`Cache-Control: public, max-age=60`). A phone therefore
//! never reads a manifest naming an artifact that is missing. It also refuses to replace a
//! manifest in the bucket whose release is *newer* than the one being uploaded (a server
//! restored from an old backup must not roll phones back: they would refuse it anyway and
//! stay stale).
//!
//! ## Failure and retry
//! A failed upload leaves the bucket's previous manifest in place (it is written last), so
//! phones keep the previous release. The local release stands (it is cut, recorded and
//! served by the server itself); the publish reports the failure loudly (`POST /v1/publish`
//! answers 502 `object_store_failed`, the CLI exits non-zero) and the upload is retried by
//! the background job, once a minute, until the bucket holds the served release (see
//! [`crate::release::sync_sink`]); the next publish uploads everything its manifest names
//! too. `fraudshield_object_store_release` and `/healthz` show how far the bucket is.
//!
//! ## Credentials
//! `object_store.access_key_id` / `secret_access_key` / `session_token`, best set in the
//! environment (`FRAUDSHIELD_OBJECT_STORE__SECRET_ACCESS_KEY=…`); when absent, the usual
//! `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN` (or an instance role) are
//! used. They are never printed: `fraudshield-server config` shows them as `"<redacted>"`.

use crate::config::ObjectStoreConfig;
use crate::release::{ReleaseSink, SinkCopy};
use crate::routes::manifest::{ARTIFACT_CACHE, MANIFEST_CACHE};
use fraudshield_core::release::keys::sha256;
use fraudshield_core::release::manifest::Manifest;
use fraudshield_core::release::signed::Bundle;
use object_store::aws::AmazonS3Builder;
use object_store::path::Path as StorePath;
use object_store::{
    Attribute, Attributes, ClientOptions, ObjectStore, ObjectStoreExt as _, PutOptions, PutPayload,
    RetryConfig,
};
use std::collections::HashSet;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Why the object store could not be set up or written.
#[derive(Debug, thiserror::Error)]
pub enum SinkError {
    /// The `[object_store]` configuration is unusable (says which setting, not its value).
    #[error("object store configuration: {0}")]
    Config(String),
    /// A local release file could not be read or does not match the signed manifest.
    #[error("local release: {0}")]
    Local(String),
    /// The object store refused or failed a request.
    #[error("object store: {0}")]
    Store(String),
    /// The bucket holds a newer release than the one being uploaded.
    #[error(
        "the object store holds release {remote}, newer than {local}: refusing to roll phones back"
    )]
    Newer {
        /// The release in the bucket.
        remote: u64,
        /// The release being uploaded.
        local: u64,
    },
}

/// Writes each release to an S3-compatible bucket: artifacts first, the manifest last.
#[derive(Debug)]
pub struct ObjectStoreSink {
    store: Arc<dyn ObjectStore>,
    prefix: Option<StorePath>,
    state: Mutex<Uploaded>,
}

/// What this process knows the bucket holds.
#[derive(Debug, Default)]
struct Uploaded {
    /// Artifact paths confirmed present.
    artifacts: HashSet<String>,
    /// The release whose manifest this process uploaded last, and its expiry.
    manifest: Option<(u64, i64)>,
}

impl ObjectStoreSink {
    /// Builds the S3 client from the configuration (no I/O). `Ok(None)` when no bucket is
    /// configured.
    pub fn from_config(c: &ObjectStoreConfig) -> Result<Option<ObjectStoreSink>, SinkError> {
        let Some(bucket) = c.bucket.as_deref().filter(|b| !b.is_empty()) else {
            return Ok(None);
        };
        // The standard AWS_* variables (credentials, and an instance role as a fallback)
        // first; every setting of ours overrides them.
        let mut b = AmazonS3Builder::from_env()
            .with_bucket_name(bucket)
            .with_region(&c.region)
            .with_virtual_hosted_style_request(c.virtual_hosted_style)
            .with_client_options(
                ClientOptions::new()
                    .with_timeout(Duration::from_secs(c.timeout_secs.max(1)))
                    .with_connect_timeout(Duration::from_secs(c.timeout_secs.clamp(1, 5)))
                    // Uploads run on a short-lived runtime per release: keep no idle connection
                    // whose driver task would outlive it.
                    .with_pool_max_idle_per_host(0),
            )
            // A store that is down fails an upload within about `timeout_secs`: the publish
            // lock is held meanwhile, and the background job retries anyway.
            .with_retry(RetryConfig {
                max_retries: 2,
                retry_timeout: Duration::from_secs(c.timeout_secs.max(1)),
                ..RetryConfig::default()
            });
        if let Some(e) = c.endpoint.as_deref().filter(|e| !e.is_empty()) {
            if !(e.starts_with("http://") || e.starts_with("https://")) {
                return Err(SinkError::Config(
                    "object_store.endpoint must start with http:// or https://".into(),
                ));
            }
            b = b.with_endpoint(e).with_allow_http(e.starts_with("http://"));
        }
        if let Some(k) = &c.access_key_id {
            b = b.with_access_key_id(k.expose());
        }
        if let Some(k) = &c.secret_access_key {
            b = b.with_secret_access_key(k.expose());
        }
        if let Some(k) = &c.session_token {
            b = b.with_token(k.expose());
        }
        // The builder's own errors may quote settings; say only which part failed.
        let store = b.build().map_err(|_| {
            SinkError::Config("the S3 client could not be built from [object_store]".into())
        })?;
        let sink = ObjectStoreSink::new(Arc::new(store), &c.prefix)?;
        Ok(Some(sink))
    }

    /// A sink over any [`ObjectStore`] (tests use an in-memory one), writing under `prefix`
    /// (`""` for the bucket's root). No I/O.
    pub fn new(store: Arc<dyn ObjectStore>, prefix: &str) -> Result<ObjectStoreSink, SinkError> {
        let trimmed = prefix.trim_matches('/');
        let prefix = if trimmed.is_empty() {
            None
        } else {
            Some(StorePath::parse(trimmed).map_err(|_| {
                SinkError::Config(
                    "object_store.prefix must be a plain relative path (a/b/c)".into(),
                )
            })?)
        };
        Ok(ObjectStoreSink {
            store,
            prefix,
            state: Mutex::new(Uploaded::default()),
        })
    }

    /// The key of `relative` (`v1/manifest`, `artifacts/…`) in the bucket.
    pub fn key(&self, relative: &str) -> Result<StorePath, SinkError> {
        let rel = StorePath::parse(relative)
            .map_err(|_| SinkError::Local("an artifact path is not a valid key".into()))?;
        Ok(match &self.prefix {
            None => rel,
            Some(p) => p.parts().chain(rel.parts()).collect(),
        })
    }

    /// Uploads `manifest`'s release from `dir`: every missing artifact, then the manifest.
    pub async fn upload(&self, dir: &Path, manifest: &Manifest) -> Result<(), SinkError> {
        for a in &manifest.artifacts {
            if self.has_artifact(&a.path) {
                continue;
            }
            let key = self.key(&a.path)?;
            match self.store.head(&key).await {
                Ok(meta) if meta.size == a.size => {
                    self.mark_artifact(&a.path);
                    continue;
                }
                Ok(_) | Err(object_store::Error::NotFound { .. }) => {}
                Err(e) => return Err(store_error("checking an artifact", &e)),
            }
            let bytes = std::fs::read(dir.join(&a.path))
                .map_err(|e| SinkError::Local(format!("reading an artifact: {e}")))?;
            if bytes.len() as u64 != a.size || sha256(&bytes) != a.sha256 {
                return Err(SinkError::Local(
                    "an artifact on disk does not match the signed manifest".into(),
                ));
            }
            self.put(&key, bytes, ARTIFACT_CACHE)
                .await
                .map_err(|e| store_error("uploading an artifact", &e))?;
            self.mark_artifact(&a.path);
        }
        let bundle = std::fs::read(dir.join("v1").join("manifest"))
            .map_err(|e| SinkError::Local(format!("reading the manifest: {e}")))?;
        let key = self.key("v1/manifest")?;
        if let Some(remote) = self.remote_release(&key).await?
            && remote > manifest.release
        {
            return Err(SinkError::Newer {
                remote,
                local: manifest.release,
            });
        }
        self.put(&key, bundle, MANIFEST_CACHE)
            .await
            .map_err(|e| store_error("uploading the manifest", &e))?;
        if let Ok(mut s) = self.state.lock() {
            s.manifest = Some((manifest.release, manifest.expires_at));
        }
        Ok(())
    }

    async fn put(
        &self,
        key: &StorePath,
        bytes: Vec<u8>,
        cache: &'static str,
    ) -> object_store::Result<()> {
        let mut attributes = Attributes::new();
        attributes.insert(Attribute::CacheControl, cache.into());
        attributes.insert(Attribute::ContentType, "application/octet-stream".into());
        let opts = PutOptions {
            attributes,
            ..PutOptions::default()
        };
        self.store
            .put_opts(key, PutPayload::from(bytes), opts)
            .await
            .map(|_| ())
    }

    /// The release of the manifest in the bucket, if there is a readable one.
    async fn remote_release(&self, key: &StorePath) -> Result<Option<u64>, SinkError> {
        let got = match self.store.get(key).await {
            Ok(g) => g,
            Err(object_store::Error::NotFound { .. }) => return Ok(None),
            Err(e) => return Err(store_error("reading the current manifest", &e)),
        };
        let bytes = got
            .bytes()
            .await
            .map_err(|e| store_error("reading the current manifest", &e))?;
        // An unreadable manifest in the bucket is replaced, not obeyed.
        Ok(Bundle::decode(&bytes)
            .ok()
            .and_then(|b| Manifest::decode(&b.manifest.payload).ok())
            .map(|m| m.release))
    }

    fn has_artifact(&self, path: &str) -> bool {
        self.state
            .lock()
            .map(|s| s.artifacts.contains(path))
            .unwrap_or(false)
    }

    fn mark_artifact(&self, path: &str) {
        if let Ok(mut s) = self.state.lock() {
            s.artifacts.insert(path.to_owned());
        }
    }
}

/// Logs the store's own error (it names the request, never a credential) and returns one
/// that says which step failed.
fn store_error(step: &str, e: &object_store::Error) -> SinkError {
    tracing::warn!(error = %e, "object store: {step} failed");
    SinkError::Store(format!("{step} failed"))
}

impl ReleaseSink for ObjectStoreSink {
    fn release_written(&self, dir: &Path, manifest: &Manifest) -> Result<(), String> {
        // Called on a blocking thread (or the CLI's main thread): run the uploads on a
        // runtime of their own, on a thread of their own, so this works from any caller.
        let result = std::thread::scope(|s| {
            s.spawn(|| {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .map_err(|e| SinkError::Local(format!("starting the upload runtime: {e}")))?;
                rt.block_on(self.upload(dir, manifest))
            })
            .join()
            .unwrap_or_else(|_| Err(SinkError::Local("the upload thread panicked".into())))
        });
        result.map_err(|e| e.to_string())
    }

    fn copy(&self) -> SinkCopy {
        match self.state.lock().ok().and_then(|s| s.manifest) {
            Some((release, expires_at)) => SinkCopy::Holds {
                release,
                expires_at,
            },
            None => SinkCopy::Unknown,
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use fraudshield_core::release::keys::SigningKey;
    use fraudshield_core::release::publisher::{PublishConfig, Publisher};
    use futures_util::stream::BoxStream;
    use object_store::memory::InMemory;
    use object_store::{
        CopyOptions, GetOptions, GetResult, ListResult, MultipartUpload, ObjectMeta,
        PutMultipartOptions, PutResult,
    };

    /// An in-memory store that records the order of writes and can refuse writes to keys
    /// containing a given text (an outage in the middle of a release).
    #[derive(Debug, Default)]
    struct Recording {
        inner: InMemory,
        puts: Mutex<Vec<String>>,
        refuse: Mutex<Option<String>>,
    }

    impl std::fmt::Display for Recording {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("Recording")
        }
    }

    #[async_trait::async_trait]
    impl ObjectStore for Recording {
        async fn put_opts(
            &self,
            location: &StorePath,
            payload: PutPayload,
            opts: PutOptions,
        ) -> object_store::Result<PutResult> {
            let key = location.to_string();
            let refused = self
                .refuse
                .lock()
                .unwrap()
                .as_deref()
                .is_some_and(|r| key.contains(r));
            if refused {
                return Err(object_store::Error::Generic {
                    store: "Recording",
                    source: "refused".into(),
                });
            }
            assert_eq!(
                opts.attributes
                    .get(&Attribute::CacheControl)
                    .map(|v| v.to_string()),
                Some(
                    if key.ends_with("v1/manifest") {
                        MANIFEST_CACHE
                    } else {
                        ARTIFACT_CACHE
                    }
                    .to_owned()
                )
            );
            self.puts.lock().unwrap().push(key);
            self.inner.put_opts(location, payload, opts).await
        }
        async fn put_multipart_opts(
            &self,
            location: &StorePath,
            opts: PutMultipartOptions,
        ) -> object_store::Result<Box<dyn MultipartUpload>> {
            self.inner.put_multipart_opts(location, opts).await
        }
        async fn get_opts(
            &self,
            location: &StorePath,
            options: GetOptions,
        ) -> object_store::Result<GetResult> {
            self.inner.get_opts(location, options).await
        }
        fn delete_stream(
            &self,
            locations: BoxStream<'static, object_store::Result<StorePath>>,
        ) -> BoxStream<'static, object_store::Result<StorePath>> {
            self.inner.delete_stream(locations)
        }
        fn list(
            &self,
            prefix: Option<&StorePath>,
        ) -> BoxStream<'static, object_store::Result<ObjectMeta>> {
            self.inner.list(prefix)
        }
        async fn list_with_delimiter(
            &self,
            prefix: Option<&StorePath>,
        ) -> object_store::Result<ListResult> {
            self.inner.list_with_delimiter(prefix).await
        }
        async fn copy_opts(
            &self,
            from: &StorePath,
            to: &StorePath,
            options: CopyOptions,
        ) -> object_store::Result<()> {
            self.inner.copy_opts(from, to, options).await
        }
    }

    fn read_manifest(dir: &Path) -> Manifest {
        let bytes = std::fs::read(dir.join("v1").join("manifest")).unwrap();
        Manifest::decode(&Bundle::decode(&bytes).unwrap().manifest.payload).unwrap()
    }

    async fn remote(store: &Recording, key: &str) -> Option<Vec<u8>> {
        match store.inner.get(&StorePath::from(key)).await {
            Ok(g) => Some(g.bytes().await.unwrap().to_vec()),
            Err(_) => None,
        }
    }

    #[tokio::test]
    async fn artifacts_first_manifest_last_and_a_failed_upload_keeps_the_old_manifest() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        let key = SigningKey::generate().unwrap();
        let mut p = Publisher::create(dir, "test", PublishConfig::default()).unwrap();
        p.publish(&[], &[&key], 1_000).unwrap();
        let store = Arc::new(Recording::default());
        let sink = ObjectStoreSink::new(store.clone(), "cn").unwrap();

        // Release 1: every artifact, then the manifest, the manifest last.
        let m1 = read_manifest(dir);
        assert!(!m1.artifacts.is_empty());
        sink.upload(dir, &m1).await.unwrap();
        let puts = store.puts.lock().unwrap().clone();
        assert_eq!(puts.last().map(String::as_str), Some("cn/v1/manifest"));
        assert_eq!(puts.len(), m1.artifacts.len() + 1, "{puts:?}");
        for a in &m1.artifacts {
            assert!(puts.contains(&format!("cn/{}", a.path)));
        }
        assert_eq!(
            sink.copy(),
            SinkCopy::Holds {
                release: 1,
                expires_at: m1.expires_at
            }
        );
        let manifest1 = remote(&store, "cn/v1/manifest").await.unwrap();

        // Release 2 while its new artifacts cannot be written: the upload fails, the bucket's
        // manifest is still release 1's, and the copy is behind.
        p.publish(&[], &[&key], 2_000).unwrap();
        let m2 = read_manifest(dir);
        store.puts.lock().unwrap().clear();
        *store.refuse.lock().unwrap() = Some("artifacts/".into());
        let e = sink.upload(dir, &m2).await.unwrap_err();
        assert!(matches!(e, SinkError::Store(_)), "{e}");
        assert_eq!(remote(&store, "cn/v1/manifest").await.unwrap(), manifest1);
        assert!(store.puts.lock().unwrap().is_empty());
        assert!(sink.copy().behind(2));

        // The retry writes only what is missing (release 1's artifacts are not sent again),
        // the manifest last.
        *store.refuse.lock().unwrap() = None;
        sink.upload(dir, &m2).await.unwrap();
        let puts = store.puts.lock().unwrap().clone();
        assert_eq!(puts.last().map(String::as_str), Some("cn/v1/manifest"));
        let new: Vec<_> = m2
            .artifacts
            .iter()
            .filter(|a| !m1.artifacts.iter().any(|b| b.path == a.path))
            .collect();
        assert!(!new.is_empty());
        assert_eq!(puts.len(), new.len() + 1, "{puts:?}");
        for a in &m2.artifacts {
            let body = remote(&store, &format!("cn/{}", a.path)).await.unwrap();
            assert_eq!(sha256(&body), a.sha256);
        }
        assert!(!sink.copy().behind(2));

        // A server restored to an older release never rolls the bucket back.
        let fresh = ObjectStoreSink::new(store.clone(), "cn").unwrap();
        let e = fresh.upload(dir, &m1).await.unwrap_err();
        assert!(
            matches!(
                e,
                SinkError::Newer {
                    remote: 2,
                    local: 1
                }
            ),
            "{e}"
        );
    }

    #[test]
    fn keys_sit_under_the_prefix() {
        let s = ObjectStoreSink::new(Arc::new(InMemory::new()), "/fraud/cn/").unwrap();
        assert_eq!(
            s.key("artifacts/ab.fsw").unwrap().as_ref(),
            "fraud/cn/artifacts/ab.fsw"
        );
        let root = ObjectStoreSink::new(Arc::new(InMemory::new()), "").unwrap();
        assert_eq!(root.key("v1/manifest").unwrap().as_ref(), "v1/manifest");
        assert!(ObjectStoreSink::new(Arc::new(InMemory::new()), "a//../b").is_err());
    }

    #[test]
    fn no_bucket_means_no_sink_and_a_bad_endpoint_is_refused() {
        let mut c = ObjectStoreConfig::default();
        assert!(ObjectStoreSink::from_config(&c).unwrap().is_none());
        c.bucket = Some("releases".into());
        c.endpoint = Some("ftp://example".into());
        let e = ObjectStoreSink::from_config(&c).unwrap_err().to_string();
        assert!(e.contains("endpoint"), "{e}");
        c.endpoint = Some("http://127.0.0.1:9000".into());
        assert!(ObjectStoreSink::from_config(&c).unwrap().is_some());
    }
}
