//! The API operations the emulator serves, by the names CTS records them under.

use http::Method;

/// One emulated API operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Operation {
    CreateCredential,
    ListCredentials,
    ShowCredential,
    UpdateCredential,
    DeleteCredential,
    KeystoneListAuthDomains,
    KeystoneListProjects,
    ShowUser,
    KeystoneShowUser,
    ListTraces,
}

/// Route templates, in axum's `{param}` syntax, shared by the router and [`Operation::from_route`].
pub const CREDENTIALS: &str = "/v3.0/OS-CREDENTIAL/credentials";
pub const CREDENTIAL: &str = "/v3.0/OS-CREDENTIAL/credentials/{access_key}";
pub const AUTH_DOMAINS: &str = "/v3/auth/domains";
pub const PROJECTS: &str = "/v3/projects";
pub const OS_USER: &str = "/v3.0/OS-USER/users/{user_id}";
pub const KEYSTONE_USER: &str = "/v3/users/{user_id}";
pub const TRACES: &str = "/v3/{project_id}/traces";

impl Operation {
    pub const ALL: [Operation; 10] = [
        Operation::CreateCredential,
        Operation::ListCredentials,
        Operation::ShowCredential,
        Operation::UpdateCredential,
        Operation::DeleteCredential,
        Operation::KeystoneListAuthDomains,
        Operation::KeystoneListProjects,
        Operation::ShowUser,
        Operation::KeystoneShowUser,
        Operation::ListTraces,
    ];

    /// Returns the trace name, which also targets faults. The key operations use the names IAM
    /// records in CTS; the others use the official SDK's operation names.
    pub fn name(self) -> &'static str {
        match self {
            // NOTE: an older EU document names key creation `addCredential`; the Chinese site
            // documents `createCredential`.
            Operation::CreateCredential => "createCredential",
            Operation::ListCredentials => "listCredentials",
            Operation::ShowCredential => "showCredential",
            // NOTE: IAM's trace name for enabling or disabling a key is not documented.
            Operation::UpdateCredential => "updateCredential",
            Operation::DeleteCredential => "deleteCredential",
            Operation::KeystoneListAuthDomains => "keystoneListAuthDomains",
            Operation::KeystoneListProjects => "keystoneListProjects",
            Operation::ShowUser => "showUser",
            Operation::KeystoneShowUser => "keystoneShowUser",
            Operation::ListTraces => "listTraces",
        }
    }

    /// Returns the CTS `service_type` of the operation.
    pub fn service_type(self) -> &'static str {
        match self {
            Operation::ListTraces => "CTS",
            _ => "IAM",
        }
    }

    /// Returns the API version in the operation's path.
    pub fn api_version(self) -> &'static str {
        match self {
            Operation::CreateCredential
            | Operation::ListCredentials
            | Operation::ShowCredential
            | Operation::UpdateCredential
            | Operation::DeleteCredential
            | Operation::ShowUser => "v3.0",
            _ => "v3",
        }
    }

    /// Returns whether the operation only reads.
    pub fn read_only(self) -> bool {
        !matches!(
            self,
            Operation::CreateCredential | Operation::UpdateCredential | Operation::DeleteCredential
        )
    }

    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|op| op.name() == name)
    }

    /// Maps a method and a matched route template to the operation.
    pub fn from_route(method: &Method, template: &str) -> Option<Self> {
        let op = match (method.as_str(), template) {
            ("POST", CREDENTIALS) => Operation::CreateCredential,
            ("GET", CREDENTIALS) => Operation::ListCredentials,
            ("GET", CREDENTIAL) => Operation::ShowCredential,
            ("PUT", CREDENTIAL) => Operation::UpdateCredential,
            ("DELETE", CREDENTIAL) => Operation::DeleteCredential,
            ("GET", AUTH_DOMAINS) => Operation::KeystoneListAuthDomains,
            ("GET", PROJECTS) => Operation::KeystoneListProjects,
            ("GET", OS_USER) => Operation::ShowUser,
            ("GET", KEYSTONE_USER) => Operation::KeystoneShowUser,
            ("GET", TRACES) => Operation::ListTraces,
            _ => return None,
        };
        Some(op)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_map_to_operations() {
        let cases = [
            (Method::POST, CREDENTIALS, Some(Operation::CreateCredential)),
            (Method::GET, CREDENTIALS, Some(Operation::ListCredentials)),
            (Method::GET, CREDENTIAL, Some(Operation::ShowCredential)),
            (Method::PUT, CREDENTIAL, Some(Operation::UpdateCredential)),
            (Method::DELETE, CREDENTIAL, Some(Operation::DeleteCredential)),
            (Method::GET, AUTH_DOMAINS, Some(Operation::KeystoneListAuthDomains)),
            (Method::GET, PROJECTS, Some(Operation::KeystoneListProjects)),
            (Method::GET, OS_USER, Some(Operation::ShowUser)),
            (Method::GET, KEYSTONE_USER, Some(Operation::KeystoneShowUser)),
            (Method::GET, TRACES, Some(Operation::ListTraces)),
            (Method::PATCH, CREDENTIAL, None),
        ];
        for (method, template, expected) in cases {
            assert_eq!(Operation::from_route(&method, template), expected, "{method} {template}");
        }
    }

    #[test]
    fn names_round_trip() {
        for op in Operation::ALL {
            assert_eq!(Operation::from_name(op.name()), Some(op));
        }
    }
}
