//! A whole `squid.conf`, as an admin has it, mapped onto the lab: every rule the admin wrote is
//! kept, and what belongs to the lab (listener, credentials, ICAP services, the URL-filter
//! helper, disk cache, logs, TLS plumbing, files on the admin's machine) is pointed at the
//! lab's own. Each change is listed with why; what cannot be mapped is listed with the
//! properties whose evidence depends on it, which the run then calls inconclusive, never
//! passed.

mod helpers;
mod mapping;
mod source;
mod table;

use std::fmt;
use std::path::{Path, PathBuf};

use conformance_spec::Property;

use source::Source;

/// Where the generated configuration sits in the proxy container (the lab's `squid.conf`
/// includes it between the lab's header and epilogue).
pub const WHOLE_CONF: &str = "/etc/squid/lab/whole.conf";
/// Where the files ACLs name are carried to.
pub const CARRIED_DIR: &str = "/etc/squid/lab-files";
/// The stand-in for helpers the lab cannot run, installed in the lab's folder under
/// [`STUB_HELPER_NAME`].
pub const STUB_HELPER_NAME: &str = "lab_stub_helper";
pub const STUB_HELPER_SCRIPT: &str = include_str!("../../../helpers/lab_stub_helper.pl");
/// Placeholders the lab fills in once its services listen.
pub(crate) const ICAP_PORT: &str = "@ICAP_PORT@";
pub(crate) const CATEGORIZER_PORT: &str = "@CATEGORIZER_PORT@";

/// How to read a whole configuration.
#[derive(Debug, Clone, Default)]
pub struct WholeOptions {
    /// The folder that stands for `/` when the configuration names absolute paths (a copy of
    /// the proxy's files); `/` when `None` (run on the proxy itself).
    pub root: Option<PathBuf>,
    /// The `external_acl_type` helpers the lab's categoriser answers for. `None`: every helper
    /// whose lookup names the destination (`%DST`, `%URI`, …).
    pub url_filters: Option<Vec<String>>,
}

/// Why a whole configuration could not be mapped (a file it names cannot be read, an option
/// names a helper it does not define).
#[derive(Debug, Clone, thiserror::Error)]
pub struct WholeConfError {
    /// `file:line` of the line that names what went wrong, when there is one.
    pub at: Option<String>,
    pub message: String,
}

impl WholeConfError {
    pub(crate) fn at(at: Option<String>, message: String) -> Self {
        Self { at, message }
    }
}

impl fmt::Display for WholeConfError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.at {
            Some(at) => write!(f, "{at}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

/// One directive the lab changed or replaced, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// `file:line` in the user's configuration.
    pub at: String,
    /// The directive as the admin wrote it.
    pub directive: String,
    /// What the lab runs instead.
    pub became: String,
    pub why: String,
}

/// Something the lab could not map, and the properties whose evidence depends on it: a pass
/// of one of them is reported inconclusive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MappingLimit {
    pub at: String,
    pub directive: String,
    /// What the lab did instead, and what that means for the verdict.
    pub consequence: String,
    pub properties: Vec<Property>,
}

/// A file carried into the proxy container from the user's machine.
#[derive(Debug, Clone)]
pub struct CarriedFile {
    pub container_path: String,
    pub read_from: PathBuf,
    pub bytes: Vec<u8>,
}

/// A whole configuration, read and mapped onto the lab.
#[derive(Debug, Clone)]
pub struct WholeConfig {
    source: Source,
    /// One generated line per line read, in order ([`WHOLE_CONF`]).
    generated: Vec<String>,
    changes: Vec<Change>,
    limits: Vec<MappingLimit>,
    carried: Vec<CarriedFile>,
    /// What the lab adds after the admin's configuration (a listener when it has none, the
    /// memory cache that replaces its disk cache).
    epilogue: Vec<String>,
    /// What the lab adds before it (the lab's credentials when it authenticates).
    header: Vec<String>,
}

impl WholeConfig {
    /// Reads `main` with everything it includes and the files its ACLs name, and maps it.
    pub fn load(main: &Path, options: &WholeOptions) -> Result<Self, WholeConfError> {
        let root = options.root.as_deref().unwrap_or(Path::new("/"));
        let source = Source::read(main, root)?;
        if source.lines.iter().all(|l| l.directive.is_none()) {
            return Err(WholeConfError::at(
                None,
                format!("{} has no directive", main.display()),
            ));
        }
        let mapped = mapping::map(&source, options)?;
        Ok(Self {
            generated: mapped.generated,
            changes: mapped.changes,
            limits: mapped.limits,
            carried: mapped.carried,
            epilogue: mapped.epilogue,
            header: mapped.header,
            source,
        })
    }

    /// The generated configuration, the lab's ports filled in.
    pub fn generated(&self, icap_port: u16, categorizer_port: u16) -> String {
        let fill = |line: &String| {
            line.replace(ICAP_PORT, &icap_port.to_string())
                .replace(CATEGORIZER_PORT, &categorizer_port.to_string())
        };
        self.generated.iter().map(|l| fill(l) + "\n").collect()
    }

    pub fn header(&self) -> &[String] {
        &self.header
    }

    pub fn epilogue(&self) -> &[String] {
        &self.epilogue
    }

    pub fn changes(&self) -> &[Change] {
        &self.changes
    }

    pub fn limits(&self) -> &[MappingLimit] {
        &self.limits
    }

    pub fn carried(&self) -> &[CarriedFile] {
        &self.carried
    }

    /// Every file of the configuration read (the main file first).
    pub fn files(&self) -> &[PathBuf] {
        &self.source.files
    }

    /// The user's file and line, and the line as the user wrote it, of line `number` of
    /// [`WHOLE_CONF`].
    pub fn origin_of(&self, number: usize) -> Option<(String, usize, &str)> {
        let line = self.source.lines.get(number.checked_sub(1)?)?;
        Some((
            crate::display_path(self.source.file_of(line.origin)),
            line.origin.line,
            line.raw.as_str(),
        ))
    }

    /// The line the lab runs in place of line `number`, when it differs from the user's.
    pub fn mapped_line(&self, number: usize) -> Option<&str> {
        let index = number.checked_sub(1)?;
        let generated = self.generated.get(index)?;
        (generated != &self.source.lines.get(index)?.raw).then_some(generated.as_str())
    }

    /// The table printed before the run: every directive changed or replaced and why, then
    /// what could not be mapped with its consequence for each property.
    pub fn table(&self) -> String {
        table::render(self)
    }
}
