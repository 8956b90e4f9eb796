//! Templates of rendered data keys (`spec.targets[].extraKeys[].template`).
//!
//! A placeholder is `{{name}}`, with optional spaces inside the braces. The names are
//! `accessKeyId`, `secretAccessKey`, `region` and `userId`. Any other name, and a `{{`
//! without its `}}`, is an error, so a typo fails validation instead of reaching a
//! workload as literal text.

use std::fmt;

/// The placeholder names a template may use.
pub const PLACEHOLDERS: [&str; 4] = ["accessKeyId", "secretAccessKey", "region", "userId"];

/// The values substituted into a template. `secret_access_key` is the only secret; the
/// rendered output carries it, so it goes only into a Secret's data.
#[derive(Clone, Copy)]
pub struct TemplateValues<'a> {
    pub access_key_id: &'a str,
    pub secret_access_key: &'a str,
    pub region: &'a str,
    pub user_id: &'a str,
}

impl fmt::Debug for TemplateValues<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TemplateValues")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"<redacted>")
            .field("region", &self.region)
            .field("user_id", &self.user_id)
            .finish()
    }
}

/// Error in a template. It never contains a rendered value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TemplateError {
    /// `{{` at this byte offset has no closing `}}`.
    Unclosed { offset: usize },
    /// `{{name}}` names no known placeholder.
    UnknownPlaceholder { name: String },
}

impl fmt::Display for TemplateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TemplateError::Unclosed { offset } => {
                write!(f, "the \"{{{{\" at byte {offset} has no closing \"}}}}\"")
            }
            TemplateError::UnknownPlaceholder { name } => write!(
                f,
                "unknown placeholder {{{{{name}}}}}; use one of {}",
                PLACEHOLDERS
                    .iter()
                    .map(|name| format!("{{{{{name}}}}}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    }
}

impl std::error::Error for TemplateError {}

/// Checks a template without rendering it.
pub fn check(template: &str) -> Result<(), TemplateError> {
    walk(template, |_| "", &mut |_| {}).map(|_| ())
}

/// Renders a template with `values`.
pub fn render(template: &str, values: &TemplateValues<'_>) -> Result<String, TemplateError> {
    let lookup = |name: &str| match name {
        "accessKeyId" => values.access_key_id,
        "secretAccessKey" => values.secret_access_key,
        "region" => values.region,
        _ => values.user_id,
    };
    let mut output = String::with_capacity(template.len() + 64);
    walk(template, lookup, &mut |piece| output.push_str(piece))?;
    Ok(output)
}

/// Splits `template` into literal text and placeholders, passing each literal and each
/// placeholder's value to `emit`.
fn walk<'v>(
    template: &str,
    lookup: impl Fn(&str) -> &'v str,
    emit: &mut dyn FnMut(&str),
) -> Result<(), TemplateError> {
    let mut rest = template;
    let mut offset = 0;

    while let Some(open) = rest.find("{{") {
        emit(&rest[..open]);
        let after_open = &rest[open + 2..];
        let Some(close) = after_open.find("}}") else {
            return Err(TemplateError::Unclosed {
                offset: offset + open,
            });
        };

        let name = after_open[..close].trim();
        if !PLACEHOLDERS.contains(&name) {
            return Err(TemplateError::UnknownPlaceholder {
                name: name.chars().take(64).collect(),
            });
        }
        emit(lookup(name));

        let consumed = open + 2 + close + 2;
        offset += consumed;
        rest = &rest[consumed..];
    }

    emit(rest);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const VALUES: TemplateValues<'static> = TemplateValues {
        access_key_id: "AKID",
        secret_access_key: "SECRET",
        region: "cn-north-4",
        user_id: "u1",
    };

    #[test]
    fn render_replaces_every_placeholder() {
        let rendered = render(
            "[default]\nak = {{accessKeyId}}\nsk = {{ secretAccessKey }}\nregion = {{region}}\nuser = {{userId}}\n",
            &VALUES,
        );

        assert_eq!(
            rendered.unwrap(),
            "[default]\nak = AKID\nsk = SECRET\nregion = cn-north-4\nuser = u1\n"
        );
    }

    #[test]
    fn render_keeps_text_without_placeholders() {
        assert_eq!(render("plain } { text", &VALUES).unwrap(), "plain } { text");
    }

    #[test]
    fn check_rejects_unknown_placeholder() {
        let error = check("ak={{accesKeyId}}").unwrap_err();

        assert_eq!(
            error,
            TemplateError::UnknownPlaceholder {
                name: "accesKeyId".to_string()
            }
        );
        assert!(error.to_string().contains("{{accessKeyId}}"), "{error}");
    }

    #[test]
    fn check_rejects_unclosed_braces() {
        assert_eq!(
            check("ak={{accessKeyId}} sk={{secretAccessKey").unwrap_err(),
            TemplateError::Unclosed { offset: 22 }
        );
    }

    #[test]
    fn debug_hides_secret_access_key() {
        let debug = format!("{VALUES:?}");

        assert!(!debug.contains("SECRET"), "{debug}");
        assert!(debug.contains("AKID"), "{debug}");
    }
}
