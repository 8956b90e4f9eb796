//! Service endpoints derived from a region id, each overridable.
//!
//! Host names follow the official Go SDK's region tables (`services/*/region/region.go`):
//! IAM has a global endpoint `iam.myhuaweicloud.com` and regional ones
//! `iam.<region>.myhuaweicloud.com`; CTS is regional only; BSS has one global host per site.

use std::fmt;

use reqwest::Url;

use crate::error::Error;

/// A validated Huawei Cloud region id such as `cn-north-4` or `ap-southeast-1`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Region(String);

impl Region {
    /// Validates a region id: two or more lower-case segments of letters, then a numeric
    /// segment, joined by `-` (`cn-north-4`, `my-kualalumpur-1`, `eu-west-101`).
    pub fn new(id: &str) -> Result<Self, Error> {
        if is_valid_region(id) {
            Ok(Self(id.to_string()))
        } else {
            Err(Error::Config {
                field: "region",
                message: format!(
                    "{:?} is not a Huawei Cloud region id; use the id from the console's region \
                     list, lower-case with hyphens and ending in a number, such as cn-north-4 \
                     or ap-southeast-1",
                    shorten(id)
                ),
            })
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Returns the DNS suffix of the site that hosts this region.
    fn domain_suffix(&self) -> &'static str {
        // NOTE: the Go SDK maps eu-west-101 to `*.myhuaweicloud.eu`. No other European
        // region id is listed there, so only this one moves to `.eu`.
        if self.0 == "eu-west-101" {
            "myhuaweicloud.eu"
        } else {
            "myhuaweicloud.com"
        }
    }
}

impl fmt::Display for Region {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn is_valid_region(id: &str) -> bool {
    if id.len() > 64 {
        return false;
    }
    let segments: Vec<&str> = id.split('-').collect();
    let Some((last, names)) = segments.split_last() else {
        return false;
    };
    names.len() >= 2
        && names
            .iter()
            .all(|segment| !segment.is_empty() && segment.bytes().all(|b| b.is_ascii_lowercase()))
        && !last.is_empty()
        && last.len() <= 3
        && last.bytes().all(|b| b.is_ascii_digit())
}

/// IAM endpoint choice when no override is given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum IamScope {
    /// `iam.myhuaweicloud.com`, where every IAM API works (the Go SDK's default).
    #[default]
    Global,
    /// `iam.<region>.myhuaweicloud.com`; the access key APIs work there too.
    Regional,
}

/// The billing site, which decides the BSS host: the Chinese and the international sites
/// keep separate billing systems even for the same region ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BillingSite {
    /// `bss.myhuaweicloud.com`.
    #[default]
    China,
    /// `bss-intl.myhuaweicloud.com`.
    International,
}

/// Endpoint overrides, as the operator's provider spec carries them (for the emulator or a
/// private cloud). Each is a base URL such as `http://127.0.0.1:18080`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EndpointOverrides {
    pub iam: Option<String>,
    pub cts: Option<String>,
    pub bss: Option<String>,
}

/// The resolved base URLs of the three services.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoints {
    pub iam: Url,
    pub cts: Url,
    pub bss: Url,
}

impl Endpoints {
    /// Derives every endpoint from the region, then applies the overrides.
    pub fn resolve(
        region: &Region,
        iam_scope: IamScope,
        billing_site: BillingSite,
        overrides: &EndpointOverrides,
    ) -> Result<Self, Error> {
        let suffix = region.domain_suffix();
        let iam_default = match (iam_scope, suffix) {
            (IamScope::Global, "myhuaweicloud.com") => "https://iam.myhuaweicloud.com".to_string(),
            // The European site has no separate global IAM host in the Go SDK's table.
            _ => format!("https://iam.{region}.{suffix}"),
        };
        let cts_default = format!("https://cts.{region}.{suffix}");
        // NOTE: the European site's billing host is not documented; it falls back to the
        // site chosen in `billing_site`, so set the `bss` override there.
        let bss_default = match billing_site {
            BillingSite::China => "https://bss.myhuaweicloud.com",
            BillingSite::International => "https://bss-intl.myhuaweicloud.com",
        };

        Ok(Self {
            iam: pick("iam_endpoint", overrides.iam.as_deref(), &iam_default)?,
            cts: pick("cts_endpoint", overrides.cts.as_deref(), &cts_default)?,
            bss: pick("bss_endpoint", overrides.bss.as_deref(), bss_default)?,
        })
    }
}

fn pick(field: &'static str, wanted: Option<&str>, default: &str) -> Result<Url, Error> {
    match wanted.map(str::trim).filter(|value| !value.is_empty()) {
        Some(value) => parse_base_url(field, value),
        None => parse_base_url(field, default),
    }
}

/// Parses an endpoint base URL: `http` or `https`, a host, an optional port and path
/// prefix, and no query, fragment or user info.
pub fn parse_base_url(field: &'static str, value: &str) -> Result<Url, Error> {
    let invalid = |why: &str| Error::Config {
        field,
        message: format!(
            "{:?} is not a usable endpoint ({why}); give a base URL such as \
             https://iam.myhuaweicloud.com or http://127.0.0.1:18080",
            shorten(value)
        ),
    };
    let url = Url::parse(value).map_err(|error| invalid(&error.to_string()))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(invalid("the scheme must be http or https"));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(invalid("the host is missing"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(invalid("a base URL takes no query or fragment"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(invalid("a base URL takes no user name or password"));
    }
    Ok(url)
}

/// Returns the `Host` header value for a URL: the host, plus the port when it is not the
/// scheme's default (`Url::port` already omits a default port).
pub fn authority(url: &Url) -> String {
    let host = url.host_str().unwrap_or_default();
    match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_string(),
    }
}

fn shorten(value: &str) -> String {
    value.chars().take(100).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolve(region: &str, scope: IamScope, site: BillingSite) -> Endpoints {
        Endpoints::resolve(
            &Region::new(region).unwrap(),
            scope,
            site,
            &EndpointOverrides::default(),
        )
        .unwrap()
    }

    #[test]
    fn region_ids_validated() {
        let cases = [
            ("cn-north-4", true),
            ("ap-southeast-1", true),
            ("my-kualalumpur-1", true),
            ("eu-west-101", true),
            ("ae-ad-1", true),
            ("cn-north", false),
            ("CN-NORTH-4", false),
            ("cn_north_4", false),
            ("cn-north-4 ", false),
            ("", false),
            ("4", false),
            ("cn--4", false),
            ("cn-north-1234", false),
            ("cn-north-4.evil.com", false),
        ];
        for (id, valid) in cases {
            assert_eq!(Region::new(id).is_ok(), valid, "region {id:?}");
        }
    }

    #[test]
    fn invalid_region_names_field_and_fix() {
        let message = Region::new("Beijing").unwrap_err().to_string();

        assert!(message.contains("region"), "{message}");
        assert!(message.contains("cn-north-4"), "{message}");
    }

    #[test]
    fn endpoints_derived_from_region() {
        let cases = [
            (
                "cn-north-4",
                IamScope::Global,
                BillingSite::China,
                "https://iam.myhuaweicloud.com/",
                "https://cts.cn-north-4.myhuaweicloud.com/",
                "https://bss.myhuaweicloud.com/",
            ),
            (
                "ap-southeast-1",
                IamScope::Regional,
                BillingSite::International,
                "https://iam.ap-southeast-1.myhuaweicloud.com/",
                "https://cts.ap-southeast-1.myhuaweicloud.com/",
                "https://bss-intl.myhuaweicloud.com/",
            ),
            (
                "eu-west-101",
                IamScope::Global,
                BillingSite::International,
                "https://iam.eu-west-101.myhuaweicloud.eu/",
                "https://cts.eu-west-101.myhuaweicloud.eu/",
                "https://bss-intl.myhuaweicloud.com/",
            ),
        ];
        for (region, scope, site, iam, cts, bss) in cases {
            let endpoints = resolve(region, scope, site);
            assert_eq!(endpoints.iam.as_str(), iam, "{region} iam");
            assert_eq!(endpoints.cts.as_str(), cts, "{region} cts");
            assert_eq!(endpoints.bss.as_str(), bss, "{region} bss");
        }
    }

    #[test]
    fn overrides_replace_each_service() {
        let overrides = EndpointOverrides {
            iam: Some("http://127.0.0.1:18080".into()),
            cts: None,
            bss: Some("http://localhost:9000/bss/".into()),
        };
        let endpoints = Endpoints::resolve(
            &Region::new("cn-north-4").unwrap(),
            IamScope::Global,
            BillingSite::China,
            &overrides,
        )
        .unwrap();

        assert_eq!(endpoints.iam.as_str(), "http://127.0.0.1:18080/");
        assert_eq!(endpoints.cts.as_str(), "https://cts.cn-north-4.myhuaweicloud.com/");
        assert_eq!(endpoints.bss.as_str(), "http://localhost:9000/bss/");
    }

    #[test]
    fn bad_overrides_rejected_with_field() {
        let cases = [
            "ftp://127.0.0.1",
            "127.0.0.1:8080",
            "http://127.0.0.1:8080/?x=1",
            "http://user:pw@127.0.0.1",
            "not a url",
        ];
        for value in cases {
            let overrides = EndpointOverrides {
                cts: Some(value.into()),
                ..Default::default()
            };
            let error = Endpoints::resolve(
                &Region::new("cn-north-4").unwrap(),
                IamScope::Global,
                BillingSite::China,
                &overrides,
            )
            .unwrap_err()
            .to_string();
            assert!(error.contains("cts_endpoint"), "{value}: {error}");
        }
    }

    #[test]
    fn authority_keeps_non_default_port() {
        let cases = [
            ("http://127.0.0.1:18080/", "127.0.0.1:18080"),
            ("https://iam.myhuaweicloud.com/", "iam.myhuaweicloud.com"),
            ("https://iam.myhuaweicloud.com:443/", "iam.myhuaweicloud.com"),
            ("http://localhost:80/", "localhost"),
            ("https://localhost:80/", "localhost:80"),
            ("http://[::1]:8080/", "[::1]:8080"),
        ];
        for (url, expected) in cases {
            assert_eq!(authority(&Url::parse(url).unwrap()), expected, "{url}");
        }
    }
}
