//! What a control offers the proxy: one object of each kind a policy commonly keys on when it
//! decides what to scan or to cache (a page, an executable, an archive, an update-like file),
//! and the note a control leaves of which kinds the proxy was seen policing — what a property's
//! verdict quotes ("control held on: executable, archive (not policed: page, update-like file)").

use std::collections::BTreeSet;
use std::fmt;

use crate::Property;

/// A kind of object a policy can key on: by the URL's extension, the reply's media type or the
/// bytes a content scanner recognises.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ObjectKind {
    Page,
    Executable,
    Archive,
    /// Named and typed like a Windows update package, from a host outside the update set.
    UpdateLikeFile,
}

impl ObjectKind {
    /// Every kind, in the order reports list them.
    pub const ALL: [Self; 4] = [
        Self::Page,
        Self::Executable,
        Self::Archive,
        Self::UpdateLikeFile,
    ];

    /// How reports name it.
    pub fn name(self) -> &'static str {
        match self {
            Self::Page => "page",
            Self::Executable => "executable",
            Self::Archive => "archive",
            Self::UpdateLikeFile => "update-like file",
        }
    }

    /// The last segment of its URL: the extension a URL rule keys on.
    pub fn file_name(self) -> &'static str {
        match self {
            Self::Page => "index.html",
            Self::Executable => "setup.exe",
            Self::Archive => "tools.zip",
            Self::UpdateLikeFile => "windows10.0-kb5034441-x64.cab",
        }
    }

    /// The media type the origin serves it with: what a reply-type rule keys on. An executable
    /// is `application/octet-stream`, as IIS and nginx serve `.exe`, so a rule on either the
    /// extension or the generic binary type sees it.
    pub fn content_type(self) -> &'static str {
        match self {
            Self::Page => "text/html",
            Self::Executable => "application/octet-stream",
            Self::Archive => "application/zip",
            Self::UpdateLikeFile => "application/vnd.ms-cab-compressed",
        }
    }

    /// The bytes its format starts with: what a content scanner recognises it by.
    pub fn magic(self) -> &'static [u8] {
        match self {
            Self::Page => b"<!DOCTYPE html>",
            Self::Executable => b"MZ",
            Self::Archive => b"PK\x03\x04",
            Self::UpdateLikeFile => b"MSCF",
        }
    }
}

impl fmt::Display for ObjectKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Which of the kinds a control offered the proxy policed, for the property it checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KindsPoliced {
    pub property: Property,
    /// The kinds the control asked for.
    pub offered: BTreeSet<ObjectKind>,
    /// Those the proxy policed (adapted, cached …).
    pub policed: BTreeSet<ObjectKind>,
}

impl KindsPoliced {
    /// Whether the control held: the proxy policed at least one kind.
    pub fn held(&self) -> bool {
        !self.policed.is_empty()
    }

    /// The kinds offered that the proxy did not police.
    pub fn not_policed(&self) -> impl Iterator<Item = ObjectKind> + '_ {
        self.offered.difference(&self.policed).copied()
    }

    /// The notes of several controls of `property` as one: a kind held when any control held
    /// it. `None` when no note is for `property`.
    pub fn merged<'a>(
        property: Property,
        notes: impl IntoIterator<Item = &'a KindsPoliced>,
    ) -> Option<Self> {
        notes
            .into_iter()
            .filter(|note| note.property == property)
            .fold(None, |merged: Option<Self>, note| {
                let mut merged = merged.unwrap_or_else(|| Self {
                    property,
                    offered: BTreeSet::new(),
                    policed: BTreeSet::new(),
                });
                merged.offered.extend(&note.offered);
                merged.policed.extend(&note.policed);
                Some(merged)
            })
    }
}

fn names(kinds: impl Iterator<Item = ObjectKind>) -> String {
    kinds.map(ObjectKind::name).collect::<Vec<_>>().join(", ")
}

impl fmt::Display for KindsPoliced {
    /// `control held on: executable, archive (not policed: page, update-like file)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let missed = names(self.not_policed());
        match (self.held(), missed.is_empty()) {
            (true, true) => write!(
                f,
                "control held on: {}",
                names(self.policed.iter().copied())
            ),
            (true, false) => write!(
                f,
                "control held on: {} (not policed: {missed})",
                names(self.policed.iter().copied())
            ),
            (false, _) => write!(f, "control held on no kind (not policed: {missed})"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn note(property: Property, policed: &[ObjectKind]) -> KindsPoliced {
        KindsPoliced {
            property,
            offered: ObjectKind::ALL.into_iter().collect(),
            policed: policed.iter().copied().collect(),
        }
    }

    #[test]
    fn the_note_names_the_kinds_that_held_and_those_that_did_not() {
        use ObjectKind::*;
        assert_eq!(
            note(Property::Icap, &[Archive, Executable]).to_string(),
            "control held on: executable, archive (not policed: page, update-like file)"
        );
        assert_eq!(
            note(Property::Icap, &ObjectKind::ALL).to_string(),
            "control held on: page, executable, archive, update-like file"
        );
        let none = note(Property::Cache, &[]);
        assert!(!none.held());
        assert_eq!(
            none.to_string(),
            "control held on no kind (not policed: page, executable, archive, update-like file)"
        );
    }

    #[test]
    fn controls_merged_hold_on_any_kind_one_of_them_held_for_their_property_only() {
        use ObjectKind::*;
        let notes = [
            note(Property::Cache, &[Executable]),
            note(Property::Cache, &[Archive]),
            note(Property::Icap, &[Page]),
        ];
        let merged = KindsPoliced::merged(Property::Cache, &notes).unwrap();
        assert_eq!(merged.policed, [Executable, Archive].into_iter().collect());
        assert_eq!(
            merged.not_policed().collect::<Vec<_>>(),
            [Page, UpdateLikeFile]
        );
        assert!(KindsPoliced::merged(Property::Auth, &notes).is_none());
    }

    #[test]
    fn every_kind_has_its_own_extension_media_type_and_leading_bytes() {
        let distinct = |f: fn(ObjectKind) -> String| {
            ObjectKind::ALL
                .into_iter()
                .map(f)
                .collect::<BTreeSet<_>>()
                .len()
        };
        assert_eq!(
            distinct(|k| k.file_name().rsplit('.').next().unwrap().to_owned()),
            4
        );
        assert_eq!(distinct(|k| k.content_type().to_owned()), 4);
        assert_eq!(distinct(|k| format!("{:?}", k.magic())), 4);
        assert_eq!(ObjectKind::Executable.magic(), b"MZ");
        assert_eq!(ObjectKind::Archive.magic(), b"PK\x03\x04");
        assert_eq!(ObjectKind::UpdateLikeFile.magic(), b"MSCF");
    }
}
