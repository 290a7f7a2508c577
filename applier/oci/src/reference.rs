//! `oci://REGISTRY/REPOSITORY:TAG` and `oci://REGISTRY/REPOSITORY@sha256:…`: where a bundle
//! artifact lives, as `flux push artifact` and OCIRepository spell it.

use crate::error::OciError;
use std::fmt;

/// A bundle artifact's location: registry, repository, and a tag, a digest, or both.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct BundleRef {
    /// `host[:port]`.
    pub registry: String,
    pub repository: String,
    pub tag: Option<String>,
    /// `sha256:` and 64 lowercase hex digits.
    pub digest: Option<String>,
}

/// Whether a command-line input names an artifact rather than a path.
pub fn is_oci(input: &str) -> bool {
    input.starts_with("oci://")
}

impl BundleRef {
    /// Parses `oci://host[:port]/repo[:tag][@sha256:hex]`; a tag or a digest is required.
    pub fn parse(input: &str) -> Result<BundleRef, OciError> {
        let bad = |reason: &str| OciError::InvalidReference {
            input: input.to_string(),
            reason: reason.to_string(),
        };
        let rest = input
            .strip_prefix("oci://")
            .ok_or_else(|| bad("it does not start with oci://"))?;
        let (name, digest) = match rest.split_once('@') {
            Some((n, d)) => (n, Some(d)),
            None => (rest, None),
        };
        let (registry, path) = name
            .split_once('/')
            .ok_or_else(|| bad("it names no repository after the registry"))?;
        if registry.is_empty() || !registry.chars().all(registry_char) {
            return Err(bad("the registry is not host[:port]"));
        }
        let last_slash = path.rfind('/').map_or(0, |i| i + 1);
        let (repository, tag) = match path[last_slash..].rfind(':') {
            Some(i) => (&path[..last_slash + i], Some(&path[last_slash + i + 1..])),
            None => (path, None),
        };
        if repository.is_empty()
            || repository
                .split('/')
                .any(|c| c.is_empty() || !c.chars().all(repository_char))
        {
            return Err(bad(
                "the repository must be lowercase letters, digits and . _ - separated by /",
            ));
        }
        if let Some(t) = tag
            && !valid_tag(t)
        {
            return Err(bad(
                "a tag is 1 to 128 letters, digits, _ . - and does not start with . or -",
            ));
        }
        if let Some(d) = digest
            && !valid_digest(d)
        {
            return Err(bad(
                "a digest is sha256: followed by 64 lowercase hex digits",
            ));
        }
        if tag.is_none() && digest.is_none() {
            return Err(bad(
                "it names neither a tag (:TAG) nor a digest (@sha256:…)",
            ));
        }
        Ok(BundleRef {
            registry: registry.to_string(),
            repository: repository.to_string(),
            tag: tag.map(String::from),
            digest: digest.map(String::from),
        })
    }

    /// The same artifact pinned to `digest` (the tag is kept for display).
    pub fn with_digest(&self, digest: &str) -> BundleRef {
        BundleRef {
            digest: Some(digest.to_string()),
            ..self.clone()
        }
    }

    /// `oci://registry/repository@digest`, the immutable form of a pulled or pushed artifact.
    pub fn pinned(&self, digest: &str) -> String {
        format!("oci://{}/{}@{digest}", self.registry, self.repository)
    }

    pub(crate) fn client_ref(&self) -> oci_client::Reference {
        match (&self.digest, &self.tag) {
            (Some(d), _) => oci_client::Reference::with_digest(
                self.registry.clone(),
                self.repository.clone(),
                d.clone(),
            ),
            (None, Some(t)) => oci_client::Reference::with_tag(
                self.registry.clone(),
                self.repository.clone(),
                t.clone(),
            ),
            (None, None) => oci_client::Reference::with_tag(
                self.registry.clone(),
                self.repository.clone(),
                "latest".into(),
            ),
        }
    }
}

impl fmt::Display for BundleRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "oci://{}/{}", self.registry, self.repository)?;
        if let Some(t) = &self.tag {
            write!(f, ":{t}")?;
        }
        if let Some(d) = &self.digest {
            write!(f, "@{d}")?;
        }
        Ok(())
    }
}

fn registry_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']')
}

fn repository_char(c: char) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-')
}

fn valid_tag(t: &str) -> bool {
    !t.is_empty()
        && t.len() <= 128
        && !t.starts_with(['.', '-'])
        && t.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
}

fn valid_digest(d: &str) -> bool {
    d.strip_prefix("sha256:").is_some_and(|hex| {
        hex.len() == 64
            && hex
                .chars()
                .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const D: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    #[test]
    fn tags_digests_and_ports() {
        let r = BundleRef::parse("oci://127.0.0.1:5000/fleet/shop:prod").unwrap();
        assert_eq!(
            (r.registry.as_str(), r.repository.as_str()),
            ("127.0.0.1:5000", "fleet/shop")
        );
        assert_eq!(r.tag.as_deref(), Some("prod"));
        let r = BundleRef::parse(&format!("oci://ghcr.io/acme/shop@{D}")).unwrap();
        assert_eq!((r.tag, r.digest.as_deref()), (None, Some(D)));
        let r = BundleRef::parse(&format!("oci://ghcr.io/acme/shop:v1@{D}")).unwrap();
        assert_eq!(r.to_string(), format!("oci://ghcr.io/acme/shop:v1@{D}"));
        assert_eq!(r.pinned(D), format!("oci://ghcr.io/acme/shop@{D}"));
    }

    #[test]
    fn malformed_references_say_why() {
        for (input, why) in [
            ("ghcr.io/acme/shop:v1", "oci://"),
            ("oci://ghcr.io", "no repository"),
            ("oci://ghcr.io/acme/shop", "neither a tag"),
            ("oci://ghcr.io/Acme/shop:v1", "lowercase"),
            ("oci://ghcr.io/acme/shop:-v1", "a tag is"),
            ("oci://ghcr.io/acme/shop@sha256:abc", "64 lowercase"),
            ("oci://ghcr.io/acme//shop:v1", "lowercase"),
        ] {
            let e = BundleRef::parse(input).unwrap_err();
            assert!(
                matches!(&e, OciError::InvalidReference { reason, .. } if reason.contains(why)),
                "{input}: {e:?}"
            );
        }
    }
}
