//! The origin's file registry: which paths the origin serves as generated update files (and
//! at what size, version and Last-Modified), and which answer with a redirect to another
//! update host. Steps register files here or mint realistic URLs of a [`UrlFamily`]; any path
//! not in the catalog goes on to the synthetic `/updates/` files, the SOAP endpoint, then the
//! scripted endpoints (wiremock), whose default for an unknown path is a 404 like the CDN's.
//!
//! A file is keyed by host scope and path *without the query*: per-client, time-limited
//! queries (`?P1=..&P4=..`) reach the same file, as on the real CDN. Its content is a
//! [`Payload`] derived from (path, size, version), so a multi-GiB file costs no memory and
//! any client can verify what it got.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::family::{content_type_for_path, UrlFamily};
use crate::payload::Payload;

/// How many other names [`Catalog::mint`] tries when a minted name is taken by another file.
const MINT_ATTEMPTS: u32 = 16;
/// Last-Modified of files whose path carries no publication month: 2023-10-10 17:00:00 GMT.
const DEFAULT_PUBLISHED: u64 = 1_696_957_200;

/// Which `Host` a catalog entry answers for.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum HostScope {
    /// Every host name the origin answers for (the file is on every CDN edge).
    AnyHost,
    /// Only this host (compared without port, case-insensitively).
    Host(String),
}

impl From<&str> for HostScope {
    fn from(host: &str) -> Self {
        Self::Host(normalize_host(host))
    }
}

impl From<String> for HostScope {
    fn from(host: String) -> Self {
        Self::from(host.as_str())
    }
}

impl fmt::Display for HostScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::AnyHost => f.write_str("any host"),
            Self::Host(host) => f.write_str(host),
        }
    }
}

/// Why the catalog refused a registration.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CatalogError {
    #[error("{0:?} is not an origin-form path: it must start with '/'")]
    InvalidPath(String),
    #[error("no catalogued file at {0}")]
    UnknownFile(String),
    #[error("redirect target {0:?} is not an absolute http:// or https:// URL")]
    InvalidLocation(String),
    #[error("status {0} is not a redirect status (301, 302, 303, 307 or 308)")]
    InvalidRedirectStatus(u16),
    #[error("no free {family} name for client {client_token:?} after {attempts} attempts")]
    NoFreeName {
        family: UrlFamily,
        client_token: String,
        attempts: u32,
    },
}

/// A catalogued file as the origin serves it now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogFile {
    pub host: HostScope,
    /// The path, without query.
    pub path: String,
    pub size: u64,
    pub family: Option<UrlFamily>,
    /// 0 when registered, bumped by every republication ([`Catalog::touch`]).
    pub version: u32,
    /// Whole seconds (HTTP dates have no finer resolution).
    pub last_modified: SystemTime,
}

impl CatalogFile {
    /// The bytes the origin serves for this file.
    pub fn payload(&self) -> Payload {
        Payload::for_resource(&self.path, self.size, self.version)
    }

    /// The strong validator of the current version.
    pub fn etag(&self) -> String {
        self.payload().etag()
    }

    /// `Last-Modified` as an HTTP date.
    pub fn last_modified_header(&self) -> String {
        httpdate::fmt_http_date(self.last_modified)
    }

    pub fn content_type(&self) -> &'static str {
        content_type_for_path(&self.path)
    }

    pub fn cache_control(&self) -> &'static str {
        self.family.unwrap_or(UrlFamily::CabC).cache_control()
    }
}

/// A catalogued redirect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redirect {
    pub status: u16,
    /// Absolute URL, usually on another update host.
    pub location: String,
}

/// What the catalog holds for one (host, path).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Resolved {
    File(CatalogFile),
    Redirect { path: String, redirect: Redirect },
}

#[derive(Debug, Clone)]
enum Entry {
    File {
        size: u64,
        version: u32,
        last_modified: SystemTime,
    },
    Redirect(Redirect),
}

type Key = (HostScope, String);

/// The registry; clones share it (the origin holds one, steps another).
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    entries: Arc<RwLock<HashMap<Key, Entry>>>,
}

impl Catalog {
    pub fn new() -> Self {
        Self::default()
    }

    /// Serves a generated file of `size` bytes at `path` (a query is ignored: every query
    /// reaches the file). Registering the same file again is a no-op; registering it with
    /// another size republishes it (new version, new Last-Modified, new ETag).
    pub fn add(
        &self,
        host: impl Into<HostScope>,
        path: &str,
        size: u64,
    ) -> Result<CatalogFile, CatalogError> {
        let host = host.into();
        let path = file_path(path)?;
        let mut entries = self.write();
        let key = (host.clone(), path.clone());
        let entry = match entries.get(&key) {
            Some(Entry::File {
                size: old,
                version,
                last_modified,
            }) if *old != size => Entry::File {
                size,
                version: version + 1,
                last_modified: republished(*last_modified),
            },
            Some(existing @ Entry::File { .. }) => existing.clone(),
            _ => Entry::File {
                size,
                version: 0,
                last_modified: first_published(&path),
            },
        };
        entries.insert(key, entry.clone());
        Ok(describe(host, path, &entry).expect("a file entry"))
    }

    /// Registers a fresh realistic URL of `family` for a file of `size` bytes handed to
    /// `client_token`, and returns it (path and, for `FileStreaming`, the client's query).
    /// Shared URLs (`Ctl`, `MccProbe`) are (re)published at that size; the SOAP endpoint is
    /// always served and needs no registration.
    pub fn mint(
        &self,
        host: impl Into<HostScope>,
        family: UrlFamily,
        size: u64,
        client_token: &str,
    ) -> Result<String, CatalogError> {
        let host = host.into();
        match family {
            UrlFamily::ClientWebService => return Ok(family.mint(size, client_token)),
            UrlFamily::Ctl | UrlFamily::MccProbe => {
                let url = family.mint(size, client_token);
                self.add(host, &url, size)?;
                return Ok(url);
            }
            _ => {}
        }
        for salt in 0..MINT_ATTEMPTS {
            let url = family.mint_salted(size, client_token, salt);
            let path = file_path(&url)?;
            let mut entries = self.write();
            match entries.get(&(host.clone(), path.clone())) {
                Some(Entry::File { size: taken, .. }) if *taken == size => return Ok(url),
                Some(_) => continue,
                None => {
                    entries.insert(
                        (host.clone(), path.clone()),
                        Entry::File {
                            size,
                            version: 0,
                            last_modified: first_published(&path),
                        },
                    );
                    return Ok(url);
                }
            }
        }
        Err(CatalogError::NoFreeName {
            family,
            client_token: client_token.to_owned(),
            attempts: MINT_ATTEMPTS,
        })
    }

    /// Answers `path` on `host` with `302 Found` and `Location: location` (an absolute URL,
    /// typically the same file on another update host).
    pub fn redirect(
        &self,
        host: impl Into<HostScope>,
        path: &str,
        location: &str,
    ) -> Result<(), CatalogError> {
        self.redirect_with_status(host, path, location, 302)
    }

    /// [`redirect`](Self::redirect) with another redirect status (301, 303, 307, 308).
    pub fn redirect_with_status(
        &self,
        host: impl Into<HostScope>,
        path: &str,
        location: &str,
        status: u16,
    ) -> Result<(), CatalogError> {
        if ![301, 302, 303, 307, 308].contains(&status) {
            return Err(CatalogError::InvalidRedirectStatus(status));
        }
        let valid = location.parse::<http::Uri>().ok().is_some_and(|uri| {
            matches!(uri.scheme_str(), Some("http" | "https")) && uri.host().is_some()
        });
        if !valid {
            return Err(CatalogError::InvalidLocation(location.to_owned()));
        }
        let path = file_path(path)?;
        self.write().insert(
            (host.into(), path),
            Entry::Redirect(Redirect {
                status,
                location: location.to_owned(),
            }),
        );
        Ok(())
    }

    /// Republishes the file at `path` on every host it is catalogued for: a new version
    /// (new content and ETag) and a Last-Modified later than the previous one (now, or one
    /// second later when touched twice within a second). Returns the new Last-Modified.
    pub fn touch(&self, path: &str) -> Result<SystemTime, CatalogError> {
        let path = file_path(path)?;
        let mut newest = None;
        for ((_, p), entry) in self.write().iter_mut() {
            if let (
                true,
                Entry::File {
                    version,
                    last_modified,
                    ..
                },
            ) = (*p == path, entry)
            {
                *version += 1;
                *last_modified = republished(*last_modified);
                newest = newest.max(Some(*last_modified));
            }
        }
        newest.ok_or(CatalogError::UnknownFile(path))
    }

    /// Forgets the entry for (`host`, `path`); whether there was one.
    pub fn remove(&self, host: impl Into<HostScope>, path: &str) -> bool {
        let Ok(path) = file_path(path) else {
            return false;
        };
        self.write().remove(&(host.into(), path)).is_some()
    }

    /// The file the origin serves for a request to `host` for `path_and_query`, if any.
    pub fn file(&self, host: &str, path_and_query: &str) -> Option<CatalogFile> {
        match self.resolve(host, path_and_query)? {
            Resolved::File(file) => Some(file),
            Resolved::Redirect { .. } => None,
        }
    }

    /// The entry for `host`, falling back to an any-host entry.
    pub(crate) fn resolve(&self, host: &str, path_and_query: &str) -> Option<Resolved> {
        let path = file_path(path_and_query).ok()?;
        let entries = self.read();
        let specific = (HostScope::Host(normalize_host(host)), path.clone());
        let any = (HostScope::AnyHost, path.clone());
        let (key, entry) = entries
            .get_key_value(&specific)
            .or_else(|| entries.get_key_value(&any))?;
        Some(match entry {
            Entry::Redirect(redirect) => Resolved::Redirect {
                path,
                redirect: redirect.clone(),
            },
            file => Resolved::File(describe(key.0.clone(), path, file)?),
        })
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, HashMap<Key, Entry>> {
        self.entries.read().unwrap_or_else(|p| p.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, HashMap<Key, Entry>> {
        self.entries.write().unwrap_or_else(|p| p.into_inner())
    }
}

fn describe(host: HostScope, path: String, entry: &Entry) -> Option<CatalogFile> {
    match entry {
        Entry::File {
            size,
            version,
            last_modified,
        } => Some(CatalogFile {
            host,
            family: UrlFamily::of_path(&path),
            path,
            size: *size,
            version: *version,
            last_modified: *last_modified,
        }),
        Entry::Redirect(_) => None,
    }
}

/// The catalog key of a request target: the path without query or fragment.
fn file_path(path_and_query: &str) -> Result<String, CatalogError> {
    let path = path_and_query.split(['?', '#']).next().unwrap_or_default();
    if !path.starts_with('/') {
        return Err(CatalogError::InvalidPath(path_and_query.to_owned()));
    }
    Ok(path.to_owned())
}

/// A host name as compared by the catalog and the journal: lower case, no port, no final dot.
pub(crate) fn normalize_host(host: &str) -> String {
    let host = host.trim();
    let without_port = if let Some(rest) = host.strip_prefix('[') {
        rest.split(']').next().unwrap_or(rest)
    } else if host.matches(':').count() == 1 {
        host.split(':').next().unwrap_or(host)
    } else {
        host
    };
    without_port.trim_end_matches('.').to_ascii_lowercase()
}

/// A deterministic first publication time: within the month the path names
/// (`/YYYY/MM/`), else around 2023, never in the future.
fn first_published(path: &str) -> SystemTime {
    let spread = crate::payload::splitmix64(crate::payload::fnv1a(path.as_bytes()));
    let segments: Vec<&str> = path.split('/').collect();
    let month_start = segments.windows(2).find_map(|pair| {
        let (year, month) = (pair[0], pair[1]);
        let numeric = |s: &str, len| s.len() == len && s.bytes().all(|b| b.is_ascii_digit());
        if !numeric(year, 4) || !numeric(month, 2) {
            return None;
        }
        let (year, month): (i64, u32) = (year.parse().ok()?, month.parse().ok()?);
        ((1990..=2100).contains(&year) && (1..=12).contains(&month))
            .then(|| days_from_civil(year, month, 1) * 86_400)
    });
    let seconds = match month_start {
        Some(start) if start > 0 => start as u64 + spread % (27 * 86_400),
        _ => DEFAULT_PUBLISHED - spread % (365 * 86_400),
    };
    let published = UNIX_EPOCH + Duration::from_secs(seconds);
    published.min(whole_seconds(SystemTime::now()))
}

/// The Last-Modified of a republication: now, but strictly after the previous one.
fn republished(previous: SystemTime) -> SystemTime {
    whole_seconds(SystemTime::now()).max(previous + Duration::from_secs(1))
}

fn whole_seconds(time: SystemTime) -> SystemTime {
    let secs = time.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    UNIX_EPOCH + Duration::from_secs(secs)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month = i64::from(month);
    let day_of_year =
        (153 * (if month > 2 { month - 3 } else { month + 9 }) + 2) / 5 + i64::from(day) - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_is_found_whatever_the_query_and_host_port() {
        let catalog = Catalog::new();
        let file = catalog
            .add("Download.WindowsUpdate.com", "/d/a.cab", 10)
            .unwrap();
        assert_eq!(file.version, 0);
        let found = catalog
            .file("download.windowsupdate.com:80", "/d/a.cab?x=1")
            .unwrap();
        assert_eq!(found, file);
        assert!(catalog
            .file("other.windowsupdate.com", "/d/a.cab")
            .is_none());
    }

    #[test]
    fn a_host_entry_wins_over_an_any_host_entry() {
        let catalog = Catalog::new();
        catalog.add(HostScope::AnyHost, "/f.cab", 1).unwrap();
        catalog.add("h.example", "/f.cab", 2).unwrap();
        assert_eq!(catalog.file("h.example", "/f.cab").unwrap().size, 2);
        assert_eq!(catalog.file("x.example", "/f.cab").unwrap().size, 1);
    }

    #[test]
    fn the_publication_month_in_the_path_sets_last_modified() {
        let catalog = Catalog::new();
        let file = catalog
            .add(
                HostScope::AnyHost,
                "/c/msdownload/update/software/updt/2020/01/x.cab",
                1,
            )
            .unwrap();
        let header = file.last_modified_header();
        assert!(header.contains("Jan 2020"), "{header}");
    }

    #[test]
    fn touching_republishes_with_a_later_date_and_new_content() {
        let catalog = Catalog::new();
        let before = catalog.add(HostScope::AnyHost, "/t.cab", 100).unwrap();
        let first = catalog.touch("/t.cab").unwrap();
        let second = catalog.touch("/t.cab?ignored").unwrap();
        assert!(first > before.last_modified);
        assert!(second > first);
        let after = catalog.file("any", "/t.cab").unwrap();
        assert_eq!(after.version, 2);
        assert_ne!(after.etag(), before.etag());
        assert_eq!(
            catalog.touch("/missing.cab"),
            Err(CatalogError::UnknownFile("/missing.cab".into()))
        );
    }

    #[test]
    fn registering_again_is_idempotent_unless_the_size_changes() {
        let catalog = Catalog::new();
        let a = catalog.add(HostScope::AnyHost, "/r.cab", 5).unwrap();
        assert_eq!(catalog.add(HostScope::AnyHost, "/r.cab", 5).unwrap(), a);
        let b = catalog.add(HostScope::AnyHost, "/r.cab", 6).unwrap();
        assert_eq!(b.version, 1);
    }

    #[test]
    fn minting_registers_and_avoids_taken_names() {
        let catalog = Catalog::new();
        let first = catalog
            .mint(HostScope::AnyHost, UrlFamily::CabC, 10, "c1")
            .unwrap();
        assert_eq!(catalog.file("h", &first).unwrap().size, 10);
        // Same inputs: the same file.
        assert_eq!(
            catalog
                .mint(HostScope::AnyHost, UrlFamily::CabC, 10, "c1")
                .unwrap(),
            first
        );
        // The name taken by a file of another size: another name.
        let other = catalog
            .mint(HostScope::AnyHost, UrlFamily::CabC, 11, "c1")
            .unwrap();
        assert_ne!(other, first);
        // FileStreaming: the file is found under any client's query.
        let url = catalog
            .mint(HostScope::AnyHost, UrlFamily::FileStreaming, 7, "c1")
            .unwrap();
        let other_client = UrlFamily::FileStreaming.for_client(&url, "c2");
        assert_eq!(catalog.file("h", &other_client).unwrap().size, 7);
    }

    #[test]
    fn redirects_are_checked() {
        let catalog = Catalog::new();
        assert!(matches!(
            catalog.redirect("a", "/x", "/relative"),
            Err(CatalogError::InvalidLocation(_))
        ));
        assert_eq!(
            catalog.redirect_with_status("a", "/x", "http://b/x", 200),
            Err(CatalogError::InvalidRedirectStatus(200))
        );
        catalog.redirect("a", "/x", "http://b.example/y").unwrap();
        assert!(matches!(
            catalog.resolve("a", "/x?q"),
            Some(Resolved::Redirect { .. })
        ));
        assert!(catalog.file("a", "/x").is_none());
    }

    #[test]
    fn hosts_are_normalised() {
        assert_eq!(normalize_host("A.Example.:8080"), "a.example");
        assert_eq!(normalize_host("[::1]:80"), "::1");
        assert_eq!(normalize_host("h"), "h");
    }

    #[test]
    fn civil_days() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2020, 1, 1), 18_262);
    }
}
