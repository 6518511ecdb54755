//! Server configuration, layered with figment: built-in defaults < TOML file < environment <
//! command-line flags.
//!
//! - TOML: `--config FILE`, or `FRAUDSHIELD_CONFIG=FILE`, or `<data_dir>/server.toml` when it
//!   exists. Unknown keys are refused (a typo must not silently fall back to a default).
//! - Environment: `FRAUDSHIELD_` + the key in upper case, sections joined by `__`, e.g.
//!   `FRAUDSHIELD_LISTEN=0.0.0.0:8080`, `FRAUDSHIELD_INTAKE__CLIENT_PER_HOUR=60`.
//! - Flags: `--data-dir`, `--listen`, `--single-reviewer` (see `fraudshield-server --help`).
//!
//! The only secrets the configuration can hold are the object store's credentials
//! ([`Secret`]: set them in the environment, e.g.
//! `FRAUDSHIELD_OBJECT_STORE__SECRET_ACCESS_KEY`); they print as `"<redacted>"`. The signing
//! key is a file in the data directory (owner-only) and tokens live hashed in the database, so
//! printing the effective configuration (`fraudshield-server config`) is safe.
//!
//! ## Defaults
//! ```toml
//! data_dir = "fraudshield-data"
//! listen = "127.0.0.1:8080"
//! list_id = "cn-police"
//! single_reviewer = false          # true lets one analyst approve their own proposal (dev/demo only)
//! request_timeout_secs = 30
//! body_limit_bytes = 65536         # JSON bodies; larger requests get 413
//! jobs_interval_secs = 60          # background jobs: freshness re-sign, object store retry, retention
//! protected = []                   # phone numbers never listed, on top of 110 119 120 122 112 96110
//!
//! [intake]
//! client_per_hour = 30             # tips one client may send per hour (429 + Retry-After beyond)
//! identifier_per_minute = 120      # tips about one identifier per minute, from everyone
//! merge_window_secs = 900          # a repeat from the same client about the same identifier is merged
//! max_text_chars = 2000
//! max_contact_chars = 200
//! queue_capacity = 4096            # tips waiting for the disk; beyond: 503 + Retry-After
//! max_batch = 512                  # tips per transaction (group commit: one fsync per batch)
//!
//! [review]
//! answer_working_days = 5          # the answer is due this many working days after the tip
//! utc_offset_hours = 8             # working days are counted in this time zone (China: +8)
//! holidays = []                    # "YYYY-MM-DD" days off that would be working days
//! workdays = []                    # "YYYY-MM-DD" make-up working days on a weekend
//! contact_retention_days = 30      # contacts are deleted this long after the tip is answered
//!
//! [publish]
//! validity_secs = 172800           # a manifest expires 2 days after it is signed
//! refresh_before_secs = 43200      # re-sign when less than 12 h of validity remain
//! alert_before_secs = 21600        # /healthz fails when less than 6 h remain
//! max_delta_span = 64
//! snapshot_interval = 32
//!
//! [object_store]                   # also publish releases to an S3-compatible bucket (see objectstore)
//! bucket = ""                      # empty: off (the server alone serves releases)
//! endpoint = ""                    # empty: AWS; e.g. "http://127.0.0.1:9000" (MinIO), "https://oss-cn-hangzhou.aliyuncs.com"
//! region = "us-east-1"
//! prefix = ""                      # keys: <prefix>/v1/manifest, <prefix>/artifacts/<sha256>.fsw
//! virtual_hosted_style = false     # true: https://<bucket>.<endpoint>/ (Aliyun OSS needs it)
//! timeout_secs = 30                # per request (raise it for very large snapshots); retries end within it too
//! # access_key_id, secret_access_key, session_token: from the environment (FRAUDSHIELD_OBJECT_STORE__…
//! # or AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN); never printed
//! ```

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The whole configuration.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// The data directory: database, keys, releases.
    pub data_dir: PathBuf,
    /// Address to listen on (`127.0.0.1:0` picks a free port).
    pub listen: String,
    /// The list id written into every manifest.
    pub list_id: String,
    /// Lets the proposer approve their own proposal. For development and the demo only; every
    /// audit row it affects says so.
    pub single_reviewer: bool,
    /// Deadline of one request, in seconds.
    pub request_timeout_secs: u64,
    /// Largest accepted request body, in bytes.
    pub body_limit_bytes: usize,
    /// Seconds between rounds of the background jobs (freshness, object store retry,
    /// contact retention).
    pub jobs_interval_secs: u64,
    /// Extra protected phone numbers (any usual spelling), on top of the built-in emergency
    /// and anti-fraud lines. Never listed: refused at proposal and at publish.
    pub protected: Vec<String>,
    /// Citizens' tip intake.
    pub intake: IntakeConfig,
    /// Review deadlines and retention.
    pub review: ReviewConfig,
    /// Release cutting and freshness.
    pub publish: PublishSettings,
    /// Publishing releases to an S3-compatible object store too (off by default).
    pub object_store: ObjectStoreConfig,
}

/// Where releases are also published: an S3-compatible bucket (AWS S3, MinIO, Aliyun OSS,
/// Tencent COS, …) that a CDN fronts. See [`crate::objectstore`].
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ObjectStoreConfig {
    /// The bucket; `None` or empty turns the object store off.
    pub bucket: Option<String>,
    /// The S3 endpoint URL (`http://` or `https://`); `None` means AWS itself.
    pub endpoint: Option<String>,
    /// The region (signing needs one even where the store ignores it).
    pub region: String,
    /// Keys are written under this prefix (`""`: the bucket's root).
    pub prefix: String,
    /// Address the bucket as `<bucket>.<endpoint host>` instead of `<endpoint>/<bucket>`.
    pub virtual_hosted_style: bool,
    /// Deadline of one request to the store, in seconds.
    pub timeout_secs: u64,
    /// Access key id (prefer the environment).
    pub access_key_id: Option<Secret>,
    /// Secret access key (prefer the environment).
    pub secret_access_key: Option<Secret>,
    /// Session token for temporary credentials (prefer the environment).
    pub session_token: Option<Secret>,
}

impl Default for ObjectStoreConfig {
    fn default() -> Self {
        ObjectStoreConfig {
            bucket: None,
            endpoint: None,
            region: "us-east-1".into(),
            prefix: String::new(),
            virtual_hosted_style: false,
            timeout_secs: 30,
            access_key_id: None,
            secret_access_key: None,
            session_token: None,
        }
    }
}

/// A credential: read from the configuration like any string, but never shown: `Debug` and
/// serialization (`fraudshield-server config`) print `"<redacted>"`.
#[derive(Clone, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// Wraps a value.
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    /// The value itself, for the one place that sends it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("\"<redacted>\"")
    }
}

impl Serialize for Secret {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str("<redacted>")
    }
}

/// Tip intake limits.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IntakeConfig {
    /// Tips one client (its `client_id`, else its address) may send per hour.
    pub client_per_hour: u32,
    /// Tips about one identifier per minute, from all clients together.
    pub identifier_per_minute: u32,
    /// A tip from the same client about the same identifier within this many seconds of the
    /// first is merged into it (counted as a repeat, not as new evidence).
    pub merge_window_secs: i64,
    /// Longest tip text, in characters.
    pub max_text_chars: usize,
    /// Longest contact, in characters.
    pub max_contact_chars: usize,
    /// Tips that may wait for the disk at once; a tip beyond gets `503` with `Retry-After`
    /// (see [`crate::intake`]).
    pub queue_capacity: usize,
    /// Most tips written in one transaction (one fsync) by the intake writer.
    pub max_batch: usize,
}

/// Review deadlines.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ReviewConfig {
    /// Working days until a tip's answer is due.
    pub answer_working_days: u32,
    /// The time zone working days are counted in, as hours east of UTC.
    pub utc_offset_hours: i8,
    /// Public holidays (`YYYY-MM-DD`): not working days even on a weekday.
    pub holidays: Vec<String>,
    /// Make-up working days (`YYYY-MM-DD`): working days even on a weekend.
    pub workdays: Vec<String>,
    /// Days a tipster's contact is kept after the tip is answered.
    pub contact_retention_days: u32,
}

/// Release settings.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PublishSettings {
    /// Seconds a manifest stays valid.
    pub validity_secs: i64,
    /// The freshness job re-signs when less than this many seconds of validity remain.
    pub refresh_before_secs: i64,
    /// `/healthz` fails when the served manifest expires within this many seconds.
    pub alert_before_secs: i64,
    /// Largest delta span offered.
    pub max_delta_span: u64,
    /// A full snapshot every this many releases.
    pub snapshot_interval: u64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            data_dir: PathBuf::from("fraudshield-data"),
            listen: "127.0.0.1:8080".into(),
            list_id: "cn-police".into(),
            single_reviewer: false,
            request_timeout_secs: 30,
            body_limit_bytes: 64 * 1024,
            jobs_interval_secs: 60,
            protected: Vec::new(),
            intake: IntakeConfig::default(),
            review: ReviewConfig::default(),
            publish: PublishSettings::default(),
            object_store: ObjectStoreConfig::default(),
        }
    }
}

impl Default for IntakeConfig {
    fn default() -> Self {
        IntakeConfig {
            client_per_hour: 30,
            identifier_per_minute: 120,
            merge_window_secs: 15 * 60,
            max_text_chars: 2000,
            max_contact_chars: 200,
            queue_capacity: 4096,
            max_batch: 512,
        }
    }
}

impl Default for ReviewConfig {
    fn default() -> Self {
        ReviewConfig {
            answer_working_days: 5,
            utc_offset_hours: 8,
            holidays: Vec::new(),
            workdays: Vec::new(),
            contact_retention_days: 30,
        }
    }
}

impl Default for PublishSettings {
    fn default() -> Self {
        PublishSettings {
            validity_secs: 2 * 24 * 3600,
            refresh_before_secs: 12 * 3600,
            alert_before_secs: 6 * 3600,
            max_delta_span: 64,
            snapshot_interval: 32,
        }
    }
}

/// Why the configuration could not be read.
#[derive(Debug, thiserror::Error)]
#[error("configuration: {0}")]
pub struct ConfigError(String);

/// Values given on the command line; `None` leaves the lower layers' value.
#[derive(Debug, Default, Clone, Serialize)]
pub struct Overrides {
    /// `--data-dir`
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_dir: Option<PathBuf>,
    /// `--listen`
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listen: Option<String>,
    /// `--single-reviewer`
    #[serde(skip_serializing_if = "Option::is_none")]
    pub single_reviewer: Option<bool>,
}

impl Config {
    /// Reads the layers: defaults, the TOML file (`file`, else `FRAUDSHIELD_CONFIG`, else
    /// `<data_dir>/server.toml` if present), `FRAUDSHIELD_*` variables, then `flags`.
    pub fn load(file: Option<&Path>, flags: &Overrides) -> Result<Config, ConfigError> {
        let env = || {
            Env::prefixed("FRAUDSHIELD_")
                .split("__")
                // FRAUDSHIELD_TOKEN is the `import` command's credential, not configuration;
                // FRAUDSHIELD_FAILPOINT stops a test build at a crash point (src/failpoint.rs).
                .ignore(&["config", "log", "token", "failpoint"])
        };
        // The data dir decides where the default TOML file is: find it first without a file.
        let base = Figment::from(Serialized::defaults(Config::default()))
            .merge(env())
            .merge(Serialized::defaults(flags));
        let file = match file {
            Some(f) => Some(f.to_path_buf()),
            None => match std::env::var_os("FRAUDSHIELD_CONFIG") {
                Some(f) => Some(PathBuf::from(f)),
                None => {
                    let dir: PathBuf = base
                        .extract_inner("data_dir")
                        .map_err(|e| ConfigError(e.to_string()))?;
                    let f = dir.join("server.toml");
                    f.exists().then_some(f)
                }
            },
        };
        let mut fig = Figment::from(Serialized::defaults(Config::default()));
        if let Some(f) = file {
            if !f.exists() {
                return Err(ConfigError(format!(
                    "config file {} does not exist",
                    f.display()
                )));
            }
            fig = fig.merge(Toml::file(f));
        }
        let config: Config = fig
            .merge(env())
            .merge(Serialized::defaults(flags))
            .extract()
            .map_err(|e| ConfigError(e.to_string()))?;
        config.validate()?;
        Ok(config)
    }

    /// Checks values that would otherwise fail later and further from their cause.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let bad = |m: &str| Err(ConfigError(m.to_owned()));
        if self.intake.client_per_hour == 0 || self.intake.identifier_per_minute == 0 {
            return bad("intake limits must be at least 1");
        }
        if self.intake.queue_capacity == 0 || self.intake.max_batch == 0 {
            return bad("intake.queue_capacity and intake.max_batch must be at least 1");
        }
        if self.publish.validity_secs <= 0
            || self.publish.refresh_before_secs <= 0
            || self.publish.refresh_before_secs >= self.publish.validity_secs
        {
            return bad("publish: validity must be positive and longer than refresh_before_secs");
        }
        if !(-12..=14).contains(&self.review.utc_offset_hours) {
            return bad("review.utc_offset_hours must be between -12 and 14");
        }
        crate::calendar::Calendar::from_config(&self.review)
            .map_err(|e| ConfigError(e.to_string()))?;
        crate::protected::ProtectedList::from_config(&self.protected)
            .map_err(|e| ConfigError(e.to_string()))?;
        crate::objectstore::ObjectStoreSink::from_config(&self.object_store)
            .map_err(|e| ConfigError(e.to_string()))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::result_large_err)]
    use super::*;

    #[test]
    fn layers_file_env_and_flags_in_order() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "s.toml",
                "listen = \"127.0.0.1:1\"\nlist_id = \"from-file\"\n[intake]\nclient_per_hour = 5\n",
            )?;
            jail.set_env("FRAUDSHIELD_LIST_ID", "from-env");
            jail.set_env("FRAUDSHIELD_INTAKE__MAX_TEXT_CHARS", "99");
            let flags = Overrides {
                listen: Some("127.0.0.1:2".into()),
                ..Default::default()
            };
            let c = Config::load(Some(Path::new("s.toml")), &flags).unwrap();
            assert_eq!(c.listen, "127.0.0.1:2");
            assert_eq!(c.list_id, "from-env");
            assert_eq!(c.intake.client_per_hour, 5);
            assert_eq!(c.intake.max_text_chars, 99);
            assert_eq!(c.review.answer_working_days, 5);
            Ok(())
        });
    }

    #[test]
    fn object_store_credentials_come_from_the_environment_and_never_print() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "s.toml",
                "[object_store]\nbucket = \"releases\"\nendpoint = \"http://127.0.0.1:9000\"\nprefix = \"cn\"\n",
            )?;
            jail.set_env("FRAUDSHIELD_OBJECT_STORE__ACCESS_KEY_ID", "AKIDEXAMPLE");
            jail.set_env(
                "FRAUDSHIELD_OBJECT_STORE__SECRET_ACCESS_KEY",
                "s3cr3t-value",
            );
            let c = Config::load(Some(Path::new("s.toml")), &Overrides::default()).unwrap();
            let o = &c.object_store;
            assert_eq!(o.bucket.as_deref(), Some("releases"));
            assert_eq!(o.prefix, "cn");
            assert_eq!(
                o.secret_access_key.as_ref().unwrap().expose(),
                "s3cr3t-value"
            );
            let shown = serde_json::to_string_pretty(&c).unwrap();
            let debug = format!("{c:?}");
            for text in [&shown, &debug] {
                assert!(!text.contains("s3cr3t-value"), "{text}");
                assert!(!text.contains("AKIDEXAMPLE"), "{text}");
                assert!(text.contains("<redacted>"), "{text}");
            }
            Ok(())
        });
    }

    #[test]
    fn unknown_keys_are_refused() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("s.toml", "lisen = \"x\"\n")?;
            assert!(Config::load(Some(Path::new("s.toml")), &Overrides::default()).is_err());
            Ok(())
        });
    }
}
