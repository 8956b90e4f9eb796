//! Checks of the provider block that both resources share.

use reqwest::Url;

use super::{FieldError, FieldReason, check_data_key, check_object_name, quote};
use crate::api::common::{CredentialsSecretRef, EndpointOverrides};

/// Checks a Huawei Cloud region ID: two or more lower-case words and a number of at most
/// three digits, joined by hyphens (`cn-north-4`, `my-kualalumpur-1`, `eu-west-101`).
pub(super) fn check_region(field: &str, region: &str) -> Option<FieldError> {
    let segments: Vec<&str> = region.split('-').collect();
    let valid = region.len() <= 64
        && segments.split_last().is_some_and(|(number, words)| {
            words.len() >= 2
                && words
                    .iter()
                    .all(|word| !word.is_empty() && word.bytes().all(|b| b.is_ascii_lowercase()))
                && (1..=3).contains(&number.len())
                && number.bytes().all(|b| b.is_ascii_digit())
        });
    if valid {
        return None;
    }
    Some(FieldError::new(
        field,
        FieldReason::InvalidRegion,
        format!(
            "{} is not a Huawei Cloud region ID; use the ID from the console's region list, \
             such as cn-north-4 or ap-southeast-1",
            quote(region)
        ),
    ))
}

/// Checks the endpoint overrides: each must be an `http` or `https` base URL with a host and
/// no query, fragment or user info.
pub(super) fn check_endpoints(field: &str, endpoints: &EndpointOverrides, errors: &mut Vec<FieldError>) {
    let overrides = [
        ("iam", &endpoints.iam),
        ("cts", &endpoints.cts),
        ("bss", &endpoints.bss),
    ];
    for (name, value) in overrides {
        let Some(value) = value else {
            continue;
        };
        if let Err(why) = check_url(value, UrlUse::BaseUrl) {
            errors.push(FieldError::new(
                format!("{field}.{name}"),
                FieldReason::InvalidEndpoint,
                format!(
                    "{} is not a usable endpoint ({why}); give a base URL such as \
                     https://iam.myhuaweicloud.com or http://127.0.0.1:18080, or remove the \
                     field to use the endpoint derived from the region",
                    quote(value)
                ),
            ));
        }
    }
}

/// What a URL is for, which decides whether it may carry a query.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum UrlUse {
    /// An endpoint base URL, to which request paths are appended.
    BaseUrl,
    /// A URL requested as it is, such as a health check.
    Request,
}

/// Returns why `value` is not an `http` or `https` URL with a host and no fragment or user
/// info. A base URL must also have no query.
pub(super) fn check_url(value: &str, use_: UrlUse) -> Result<(), String> {
    let url = Url::parse(value).map_err(|error| error.to_string())?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err("the scheme must be http or https".to_string());
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err("the host is missing".to_string());
    }
    if use_ == UrlUse::BaseUrl && url.query().is_some() {
        return Err("a base URL takes no query".to_string());
    }
    if url.fragment().is_some() {
        return Err("it must have no fragment".to_string());
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("it must have no user name or password".to_string());
    }
    Ok(())
}

/// Checks a reference to a Secret with an access key.
pub(super) fn check_credentials_ref(
    field: &str,
    reference: &CredentialsSecretRef,
    errors: &mut Vec<FieldError>,
) {
    errors.extend(check_object_name(&format!("{field}.name"), "Secret", &reference.name));
    errors.extend(check_data_key(
        &format!("{field}.accessKeyIdKey"),
        &reference.access_key_id_key,
    ));
    errors.extend(check_data_key(
        &format!("{field}.secretAccessKeyKey"),
        &reference.secret_access_key_key,
    ));
    if reference.access_key_id_key == reference.secret_access_key_key {
        errors.push(FieldError::new(
            format!("{field}.secretAccessKeyKey"),
            FieldReason::DuplicateDataKey,
            format!(
                "accessKeyIdKey and secretAccessKeyKey are both {}; the access key ID and the \
                 secret access key need different data keys",
                quote(&reference.access_key_id_key)
            ),
        ));
    }
}
