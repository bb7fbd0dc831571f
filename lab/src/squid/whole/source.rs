//! Reading a whole Squid configuration as Squid reads it: every `include` inlined where it
//! stands (globs expanded, in name order; relative paths from the main file's folder, absolute
//! ones under the configuration root), `\` continuations kept with their directive, and the
//! files ACLs name in quotes read to be carried into the lab. Every line keeps where it came
//! from, so a message about the generated configuration can name the user's file and line.

use std::path::{Path, PathBuf};

use super::WholeConfError;

/// Squid's own limit on nested includes.
const MAX_INCLUDE_DEPTH: usize = 16;

/// Where a line came from: a file of the configuration (index into [`Source::files`]) and its
/// line number there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Origin {
    pub file: usize,
    pub line: usize,
}

/// One physical line of the configuration, in the order Squid reads it.
#[derive(Debug, Clone)]
pub struct SourceLine {
    pub origin: Origin,
    pub raw: String,
    /// The whole directive when this line starts one (continuations joined), `None` for a
    /// comment, a blank line or a continuation of the directive above.
    pub directive: Option<String>,
}

/// A file an ACL names in quotes, read from the user's machine.
#[derive(Debug, Clone)]
pub struct AclFile {
    /// As the configuration names it (between the quotes).
    pub named: String,
    /// Where it was read.
    pub read_from: PathBuf,
    pub bytes: Vec<u8>,
}

/// The configuration as Squid reads it.
#[derive(Debug, Clone, Default)]
pub struct Source {
    /// Every file read, as the user's paths (the main file first).
    pub files: Vec<PathBuf>,
    pub lines: Vec<SourceLine>,
    pub acl_files: Vec<AclFile>,
}

impl Source {
    /// Reads `main` and everything it includes. Relative paths are taken from the folder of
    /// `main` (as from `/etc/squid`); absolute paths are read under `root` (`/` on the proxy
    /// itself, the folder holding a copy of its files elsewhere).
    pub fn read(main: &Path, root: &Path) -> Result<Self, WholeConfError> {
        let mut source = Self::default();
        source.read_file(main, root, 0, None)?;
        source.collect_acl_files(root)?;
        Ok(source)
    }

    pub fn file_of(&self, origin: Origin) -> &Path {
        &self.files[origin.file]
    }

    /// `file:line`, for messages and the mapping table.
    pub fn locate(&self, origin: Origin) -> String {
        format!(
            "{}:{}",
            crate::display_path(self.file_of(origin)),
            origin.line
        )
    }

    fn read_file(
        &mut self,
        path: &Path,
        root: &Path,
        depth: usize,
        named_at: Option<Origin>,
    ) -> Result<(), WholeConfError> {
        let at = |source: &Self| named_at.map(|o| source.locate(o));
        if depth > MAX_INCLUDE_DEPTH {
            return Err(WholeConfError::at(
                at(self),
                format!("includes nested deeper than {MAX_INCLUDE_DEPTH} (Squid's limit): is {} including itself?", path.display()),
            ));
        }
        let bytes = std::fs::read(path).map_err(|e| {
            WholeConfError::at(at(self), format!("cannot read {}: {e}", path.display()))
        })?;
        let text = String::from_utf8(bytes).map_err(|_| {
            WholeConfError::at(at(self), format!("{} is not UTF-8 text", path.display()))
        })?;
        let file = self.files.len();
        self.files.push(path.to_owned());
        let physical: Vec<&str> = text.lines().collect();
        let mut index = 0;
        while index < physical.len() {
            let first = index;
            let mut joined = physical[index].trim_end().to_owned();
            while joined.ends_with('\\') && index + 1 < physical.len() {
                joined.pop();
                index += 1;
                joined.push(' ');
                joined.push_str(physical[index].trim());
            }
            // A word that starts with `#` ends the directive, as in Squid's parser.
            let words: Vec<&str> = joined
                .split_whitespace()
                .take_while(|w| !w.starts_with('#'))
                .collect();
            let directive_text = words.join(" ");
            let trimmed = directive_text.as_str();
            let is_directive = !trimmed.is_empty();
            let include = is_directive && trimmed.split_whitespace().next() == Some("include");
            for (offset, raw) in physical[first..=index].iter().enumerate() {
                self.lines.push(SourceLine {
                    origin: Origin {
                        file,
                        line: first + offset + 1,
                    },
                    raw: (*raw).to_owned(),
                    directive: (offset == 0 && is_directive).then(|| trimmed.to_owned()),
                });
            }
            if include {
                let origin = Origin {
                    file,
                    line: first + 1,
                };
                for pattern in trimmed.split_whitespace().skip(1) {
                    let main = self.files[0].clone();
                    let included = self.expand(pattern, &main, root, origin)?;
                    for included in included {
                        self.read_file(&included, root, depth + 1, Some(origin))?;
                    }
                }
            }
            index += 1;
        }
        Ok(())
    }

    /// The files an `include` pattern names, in name order (a glob may match none, as in
    /// Squid; a plain path must exist).
    fn expand(
        &self,
        pattern: &str,
        main: &Path,
        root: &Path,
        origin: Origin,
    ) -> Result<Vec<PathBuf>, WholeConfError> {
        let resolved = resolve(pattern, main, root);
        if !pattern.contains(['*', '?', '[']) {
            return Ok(vec![resolved]);
        }
        let text = resolved.to_string_lossy().into_owned();
        let paths = glob::glob(&text).map_err(|e| {
            WholeConfError::at(
                Some(self.locate(origin)),
                format!("the include pattern {pattern} is not a valid glob: {e}"),
            )
        })?;
        let mut found: Vec<PathBuf> = paths.flatten().filter(|p| p.is_file()).collect();
        found.sort();
        Ok(found)
    }

    /// Reads every file an `acl` line names in quotes (Squid reads the ACL's values from it),
    /// unless `configuration_includes_quoted_values on` makes quotes mean values.
    fn collect_acl_files(&mut self, root: &Path) -> Result<(), WholeConfError> {
        let mut quoted_values = false;
        let mut wanted = Vec::new();
        for line in &self.lines {
            let Some(directive) = &line.directive else {
                continue;
            };
            let mut words = directive.split_whitespace();
            match words.next() {
                Some("configuration_includes_quoted_values") => {
                    quoted_values = words.next() == Some("on");
                }
                Some("acl") if !quoted_values => {
                    for word in words.skip(2) {
                        if let Some(named) = quoted_file(word) {
                            wanted.push((named.to_owned(), line.origin));
                        }
                    }
                }
                _ => {}
            }
        }
        for (named, origin) in wanted {
            if self.acl_files.iter().any(|f| f.named == named) {
                continue;
            }
            let main = self.files[0].clone();
            let read_from = resolve(&named, &main, root);
            let bytes = std::fs::read(&read_from).map_err(|e| {
                WholeConfError::at(
                    Some(self.locate(origin)),
                    format!(
                        "cannot read the ACL file \"{named}\" ({}): {e}",
                        read_from.display()
                    ),
                )
            })?;
            self.acl_files.push(AclFile {
                named,
                read_from,
                bytes,
            });
        }
        Ok(())
    }
}

/// The path between the quotes of an ACL value that names a file.
pub fn quoted_file(word: &str) -> Option<&str> {
    word.strip_prefix('"')?
        .strip_suffix('"')
        .filter(|p| !p.is_empty())
}

/// Where `named` is on this machine: relative to the main file's folder, or, when absolute,
/// under `root`.
fn resolve(named: &str, main: &Path, root: &Path) -> PathBuf {
    let path = Path::new(named);
    if path.is_absolute() {
        root.join(path.strip_prefix("/").unwrap_or(path))
    } else {
        main.parent().unwrap_or_else(|| Path::new(".")).join(path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn includes_are_inlined_where_they_stand_with_their_origins() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("conf.d")).unwrap();
        std::fs::write(
            dir.path().join("squid.conf"),
            "acl a src all\t# \"all\" of them\ninclude conf.d/*.conf\nhttp_access deny all\n",
        )
        .unwrap();
        std::fs::write(dir.path().join("conf.d/b.conf"), "# b\nacl b src all\n").unwrap();
        std::fs::write(
            dir.path().join("conf.d/a.conf"),
            "acl x dstdomain \\\n  .a .b\n",
        )
        .unwrap();
        let source = Source::read(&dir.path().join("squid.conf"), Path::new("/")).unwrap();
        let shown: Vec<(String, usize, Option<&str>)> = source
            .lines
            .iter()
            .map(|l| {
                (
                    source
                        .file_of(l.origin)
                        .file_name()
                        .unwrap()
                        .to_string_lossy()
                        .into_owned(),
                    l.origin.line,
                    l.directive.as_deref(),
                )
            })
            .collect();
        assert_eq!(
            shown,
            [
                ("squid.conf".into(), 1, Some("acl a src all")),
                ("squid.conf".into(), 2, Some("include conf.d/*.conf")),
                ("a.conf".into(), 1, Some("acl x dstdomain .a .b")),
                ("a.conf".into(), 2, None),
                ("b.conf".into(), 1, None),
                ("b.conf".into(), 2, Some("acl b src all")),
                ("squid.conf".into(), 3, Some("http_access deny all")),
            ]
        );
    }

    #[test]
    fn absolute_paths_are_read_under_the_root_and_a_missing_file_names_the_line() {
        let root = tempfile::tempdir().unwrap();
        let etc = root.path().join("etc/squid");
        std::fs::create_dir_all(&etc).unwrap();
        std::fs::write(
            etc.join("squid.conf"),
            "include /etc/squid/site.conf\nacl wu dstdomain \"/etc/squid/wu.txt\"\n",
        )
        .unwrap();
        std::fs::write(etc.join("site.conf"), "acl lan src 10.0.0.0/8\n").unwrap();
        let missing = Source::read(&etc.join("squid.conf"), root.path()).unwrap_err();
        let message = missing.to_string();
        assert!(message.contains("squid.conf:2"), "{message}");
        assert!(message.contains("\"/etc/squid/wu.txt\""), "{message}");
        std::fs::write(etc.join("wu.txt"), ".update.microsoft.com\n").unwrap();
        let source = Source::read(&etc.join("squid.conf"), root.path()).unwrap();
        assert_eq!(source.files.len(), 2);
        assert_eq!(source.acl_files.len(), 1);
        assert_eq!(source.acl_files[0].bytes, b".update.microsoft.com\n");
    }

    #[test]
    fn a_missing_include_names_the_including_line_and_a_self_include_stops() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("a.conf"),
            "acl a src all\ninclude gone.conf\n",
        )
        .unwrap();
        let error = Source::read(&dir.path().join("a.conf"), Path::new("/"))
            .unwrap_err()
            .to_string();
        assert!(error.contains("a.conf:2"), "{error}");
        assert!(error.contains("gone.conf"), "{error}");
        std::fs::write(dir.path().join("loop.conf"), "include loop.conf\n").unwrap();
        let error = Source::read(&dir.path().join("loop.conf"), Path::new("/"))
            .unwrap_err()
            .to_string();
        assert!(error.contains("nested deeper"), "{error}");
    }
}
