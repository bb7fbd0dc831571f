//! Controls that offer the proxy one object of each kind a policy commonly keys on (a page, an
//! executable, an archive, an update-like file: `ObjectKind`), all small and cacheable, from a
//! host it must police, under the scenario's own paths; and the judgement their checks share: a
//! control holds when the proxy policed any of the kinds, and fails only when it policed none
//! (or nothing was asked). A policy that scans or caches only some kinds (an antivirus for
//! programs and archives, a cache for software downloads) thus passes its control, and the
//! property's verdict names the kinds that held.

use conformance_model::{KindsPoliced, ObjectKind, Property};
use cucumber::{given, when};
use wiremock::ResponseTemplate;

use crate::client::Ask;
use crate::parameters::{self, Resource};
use crate::world::{ConformanceWorld, ControlObject, Served};

/// Size of each control object: a few KiB, like a small real one.
const OBJECT_SIZE: usize = 4 << 10;

#[given(expr = "{string} serves a control object of each kind")]
async fn serves_a_control_object_of_each_kind(
    world: &mut ConformanceWorld,
    host: String,
) -> Result<(), String> {
    let host = world.resolve_host(&host)?;
    for kind in ObjectKind::ALL {
        let target = format!("/controls/{}/{}", world.token, kind.file_name());
        let object = ResponseTemplate::new(200)
            .insert_header("cache-control", "public, max-age=3600")
            .insert_header("last-modified", "Tue, 10 Oct 2023 17:00:00 GMT")
            .set_body_raw(object_body(kind, &world.token), kind.content_type());
        world.mount(&target, object).await;
        world.objects.push(ControlObject {
            kind,
            served: Served {
                resource: Resource::Page,
                host: host.clone(),
                target,
                size: 0,
                payload: None,
            },
        });
    }
    Ok(())
}

/// The body of a control object of `kind`: its format's leading bytes, then filler naming the
/// scenario, [`OBJECT_SIZE`] bytes in all.
fn object_body(kind: ObjectKind, token: &str) -> Vec<u8> {
    let mut body = kind.magic().to_vec();
    let filler = format!(" control {} {token}\n", kind.name());
    while body.len() < OBJECT_SIZE {
        body.extend_from_slice(filler.as_bytes());
    }
    body.truncate(OBJECT_SIZE);
    body
}

#[when(expr = "a client {credentials} requests each of them over {scheme}")]
async fn a_client_requests_each_of_them(
    world: &mut ConformanceWorld,
    credentials: parameters::Credentials,
    scheme: parameters::Scheme,
) -> Result<(), String> {
    let objects = world.control_objects()?;
    for object in objects {
        let ask = Ask::to_host(&object.served.host, scheme, credentials);
        let exchange = world.fetch_served(&object.served, ask).await;
        world.exchanges.push(exchange);
    }
    Ok(())
}

#[when("the same client requests each of them again")]
async fn the_same_client_requests_each_again(world: &mut ConformanceWorld) -> Result<(), String> {
    for object in world.control_objects()? {
        let Some(first) = world.exchanges_for(&object).first().copied().cloned() else {
            return Err(format!(
                "the {} was not requested yet: add `When a client … requests each of them over …` first",
                object.kind
            ));
        };
        let mut ask = Ask::get(first.scheme, first.credentials);
        ask.extra_headers = first.extra_headers.clone();
        let exchange = world.fetch_served(&object.served, ask).await;
        world.exchanges.push(exchange);
    }
    Ok(())
}

/// Which kinds the proxy policed, from what a check saw of each object the client asked for
/// (`(kind, policed)`); `None` when it asked for none.
pub(crate) fn kinds_policed(
    property: Property,
    seen: &[(ObjectKind, bool)],
) -> Option<KindsPoliced> {
    (!seen.is_empty()).then(|| KindsPoliced {
        property,
        offered: seen.iter().map(|(kind, _)| *kind).collect(),
        policed: seen
            .iter()
            .filter(|(_, policed)| *policed)
            .map(|(kind, _)| *kind)
            .collect(),
    })
}

/// Why a control over `kinds` did not hold, if it did not (expected, actual): the proxy
/// policed none of the kinds, or no object was asked for at all (never a vacuous pass).
/// `policing` says what the check looks for, e.g. `a REQMOD or RESPMOD call`.
pub(crate) fn control_problem(
    kinds: Option<&KindsPoliced>,
    policing: &str,
) -> Option<(String, String)> {
    let expected = format!("{policing} for at least one kind of object");
    match kinds {
        None => Some((expected, "no control object was requested".to_owned())),
        Some(kinds) if !kinds.held() => Some((expected, format!("none: {kinds}"))),
        Some(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use conformance_model::{ObjectKind, Property};

    use super::{control_problem, kinds_policed, object_body, OBJECT_SIZE};

    #[test]
    fn a_control_holds_on_any_kind_policed_and_fails_on_none_or_nothing_asked() {
        use ObjectKind::*;
        let some = [
            (Page, false),
            (Executable, true),
            (Archive, true),
            (UpdateLikeFile, false),
        ];
        let held = kinds_policed(Property::Icap, &some).unwrap();
        assert!(control_problem(Some(&held), "a call").is_none());
        assert_eq!(
            held.to_string(),
            "control held on: executable, archive (not policed: page, update-like file)"
        );
        let none = kinds_policed(Property::Icap, &some.map(|(kind, _)| (kind, false)));
        let (expected, actual) = control_problem(none.as_ref(), "a call").unwrap();
        assert!(expected.contains("at least one kind"), "{expected}");
        assert!(actual.contains("no kind"), "{actual}");
        assert!(kinds_policed(Property::Icap, &[]).is_none());
        let (_, actual) = control_problem(None, "a call").unwrap();
        assert!(
            actual.contains("no control object was requested"),
            "{actual}"
        );
    }

    #[test]
    fn each_object_starts_with_its_formats_bytes_and_is_a_few_kib() {
        for kind in ObjectKind::ALL {
            let body = object_body(kind, "s1-abc");
            assert!(body.starts_with(kind.magic()), "{kind}");
            assert_eq!(body.len(), OBJECT_SIZE);
        }
    }
}
