//! The store URL: libpq's TLS options translated for tokio-postgres, and
//! the URL as logs may show it (no password).

use super::tls;

/// The URL for logs: its password (in the user info or `password=`) masked.
pub(crate) fn redact_url(url: &str) -> String {
    let (base, query) = url.split_once('?').unwrap_or((url, ""));
    let mut out = match base.split_once("://") {
        Some((scheme, rest)) => {
            let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
            let authority = match authority.rsplit_once('@') {
                Some((user, host)) => match user.split_once(':') {
                    Some((name, _)) => format!("{name}:***@{host}"),
                    None => format!("{user}@{host}"),
                },
                None => authority.to_string(),
            };
            format!("{scheme}://{authority}{path}")
        }
        None => base.to_string(),
    };
    if !query.is_empty() {
        let params: Vec<String> = query
            .split('&')
            .map(|p| match p.split_once('=') {
                Some(("password", _)) => "password=***".to_string(),
                _ => p.to_string(),
            })
            .collect();
        out.push('?');
        out.push_str(&params.join("&"));
    }
    out
}

/// libpq's TLS options over what tokio-postgres knows: `sslrootcert` is
/// taken out (returned, percent-decoded), `sslmode=verify-ca|verify-full`
/// become `require` and `allow` `prefer`; the returned [`tls::Verify`] says
/// what the certificate check does.
pub(super) fn libpq_compat(url: &str) -> (String, Option<String>, tls::Verify) {
    let Some((base, query)) = url.split_once('?') else {
        return (url.to_string(), None, tls::Verify::Nothing);
    };
    let mut root = None;
    let mut mode = "prefer";
    let mut kept = Vec::new();
    for param in query.split('&') {
        match param.split_once('=') {
            Some(("sslrootcert", v)) => root = Some(percent_decode(v)),
            Some(("sslmode", m @ ("verify-ca" | "verify-full"))) => {
                mode = m;
                kept.push("sslmode=require".to_string());
            }
            Some(("sslmode", "allow")) => kept.push("sslmode=prefer".to_string()),
            _ => kept.push(param.to_string()),
        }
    }
    let verify = match (mode, &root) {
        ("verify-full", _) => tls::Verify::Full,
        ("verify-ca", _) | (_, Some(_)) => tls::Verify::Chain,
        _ => tls::Verify::Nothing,
    };
    let url = if kept.is_empty() {
        base.to_string()
    } else {
        format!("{base}?{}", kept.join("&"))
    };
    (url, root, verify)
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_lose_their_passwords_in_logs() {
        assert_eq!(
            redact_url("postgres://gi:s3cret@db.example:5432/gitintent?sslmode=require"),
            "postgres://gi:***@db.example:5432/gitintent?sslmode=require"
        );
        assert_eq!(
            redact_url("postgresql://db/gitintent?user=gi&password=s3cret"),
            "postgresql://db/gitintent?user=gi&password=***"
        );
        assert_eq!(redact_url("postgres://gi@db/x"), "postgres://gi@db/x");
    }

    #[test]
    fn libpq_options_are_translated() {
        let (url, root, verify) =
            libpq_compat("postgres://db/x?sslmode=verify-full&sslrootcert=%2Fetc%2Fca.pem");
        assert_eq!(url, "postgres://db/x?sslmode=require");
        assert_eq!(root.as_deref(), Some("/etc/ca.pem"));
        assert_eq!(verify, tls::Verify::Full);
        assert_eq!(
            libpq_compat("postgres://db/x"),
            ("postgres://db/x".to_string(), None, tls::Verify::Nothing)
        );
        assert_eq!(
            libpq_compat("postgres://db/x?sslmode=verify-ca").2,
            tls::Verify::Chain
        );
        assert_eq!(
            libpq_compat("postgres://db/x?sslrootcert=ca.pem").2,
            tls::Verify::Chain
        );
        assert_eq!(
            libpq_compat("postgres://db/x?sslmode=require").2,
            tls::Verify::Nothing
        );
    }
}
