//! IAM user controls the leak response uses: enabling or disabling a user, login
//! protection, and virtual MFA devices. All need the Security Administrator role or the
//! matching fine-grained `iam:users:*` actions.

use reqwest::Method;
use serde::Deserialize;
use serde_json::json;

use crate::client::Client;
use crate::error::{Error, ErrorKind};
use crate::iam::require_id;
use crate::identity::User;
use crate::metrics::Service;
use crate::transport::ApiRequest;

/// Second factor that login protection requires.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum VerificationMethod {
    Sms,
    Email,
    Vmfa,
    /// Reported for users whose protection is off.
    None,
}

impl VerificationMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sms => "sms",
            Self::Email => "email",
            Self::Vmfa => "vmfa",
            Self::None => "none",
        }
    }
}

/// Login protection of one user.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct LoginProtect {
    pub user_id: String,
    pub enabled: bool,
    pub verification_method: VerificationMethod,
}

impl LoginProtect {
    /// Checks whether a second factor is required at console login. A `none` method
    /// counts as off regardless of `enabled`.
    pub fn is_on(&self) -> bool {
        self.enabled && self.verification_method != VerificationMethod::None
    }
}

/// A virtual MFA device bound to a user; IAM lists bound devices only.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct MfaDevice {
    pub user_id: String,
    pub serial_number: String,
}

#[derive(Deserialize)]
struct UserEnvelope {
    user: User,
}

#[derive(Deserialize)]
struct LoginProtectEnvelope {
    login_protect: LoginProtect,
}

#[derive(Deserialize)]
struct LoginProtectList {
    #[serde(default)]
    login_protects: Vec<LoginProtect>,
}

#[derive(Deserialize)]
struct MfaDeviceEnvelope {
    virtual_mfa_device: MfaDevice,
}

#[derive(Deserialize)]
struct MfaDeviceList {
    #[serde(default)]
    virtual_mfa_devices: Vec<MfaDevice>,
}

/// Turns a not-found error into `None`, for lookups where absence is a normal result.
fn none_if_not_found<T>(result: Result<T, Error>) -> Result<Option<T>, Error> {
    match result {
        Ok(value) => Ok(Some(value)),
        Err(error) if error.kind() == ErrorKind::NotFound => Ok(None),
        Err(error) => Err(error),
    }
}

impl Client {
    /// Enables or disables an IAM user (`UpdateUser`). IAM rejects requests signed with a
    /// disabled user's keys (`IAM.0080`).
    pub async fn set_user_enabled(&self, user_id: &str, enabled: bool) -> Result<User, Error> {
        require_id("user_id", user_id)?;
        let request = ApiRequest::new(
            Service::Iam,
            "UpdateUser",
            Method::PUT,
            &["v3.0", "OS-USER", "users", user_id],
        )
        .json_body(&json!({"user": {"enabled": enabled}}));
        let envelope: UserEnvelope = self.send_json(&request).await?;
        tracing::info!(user_id, enabled, "updated IAM user status");
        Ok(envelope.user)
    }

    /// Shows a user's login protection (`ShowUserLoginProtect`). `None` when the user never
    /// had it enabled, for which IAM returns 404.
    pub async fn show_login_protect(&self, user_id: &str) -> Result<Option<LoginProtect>, Error> {
        require_id("user_id", user_id)?;
        let request = ApiRequest::new(
            Service::Iam,
            "ShowUserLoginProtect",
            Method::GET,
            &["v3.0", "OS-USER", "users", user_id, "login-protect"],
        );
        let envelope = none_if_not_found(self.send_json::<LoginProtectEnvelope>(&request).await)?;
        Ok(envelope.map(|envelope| envelope.login_protect))
    }

    /// Lists login protection of the account's users (`ListUserLoginProtects`). Users that
    /// never had it enabled are absent.
    pub async fn list_login_protects(&self) -> Result<Vec<LoginProtect>, Error> {
        let request = ApiRequest::new(
            Service::Iam,
            "ListUserLoginProtects",
            Method::GET,
            &["v3.0", "OS-USER", "login-protects"],
        );
        let list: LoginProtectList = self.send_json(&request).await?;
        Ok(list.login_protects)
    }

    /// Sets a user's login protection (`UpdateLoginProtect`). IAM requires a method even
    /// to switch protection off. `VerificationMethod::None` is rejected here because IAM
    /// accepts only `sms`, `email` and `vmfa`.
    pub async fn update_login_protect(
        &self,
        user_id: &str,
        enabled: bool,
        method: VerificationMethod,
    ) -> Result<LoginProtect, Error> {
        require_id("user_id", user_id)?;
        if method == VerificationMethod::None {
            return Err(Error::Config {
                field: "verification_method",
                message: "must be sms, email or vmfa; to switch protection off, send enabled=false with sms".into(),
            });
        }
        let request = ApiRequest::new(
            Service::Iam,
            "UpdateLoginProtect",
            Method::PUT,
            &["v3.0", "OS-USER", "users", user_id, "login-protect"],
        )
        .json_body(&json!({"login_protect": {"enabled": enabled, "verification_method": method.as_str()}}));
        let envelope: LoginProtectEnvelope = self.send_json(&request).await?;
        tracing::info!(user_id, enabled, method = method.as_str(), "updated IAM login protection");
        Ok(envelope.login_protect)
    }

    /// Lists the virtual MFA devices bound in the account (`ListUserMfaDevices`).
    pub async fn list_mfa_devices(&self) -> Result<Vec<MfaDevice>, Error> {
        let request = ApiRequest::new(
            Service::Iam,
            "ListUserMfaDevices",
            Method::GET,
            &["v3.0", "OS-MFA", "virtual-mfa-devices"],
        );
        let list: MfaDeviceList = self.send_json(&request).await?;
        Ok(list.virtual_mfa_devices)
    }

    /// Shows the virtual MFA device of a user (`ShowUserMfaDevice`); `None` when the user
    /// has none bound, for which IAM returns 404.
    pub async fn show_mfa_device(&self, user_id: &str) -> Result<Option<MfaDevice>, Error> {
        require_id("user_id", user_id)?;
        let request = ApiRequest::new(
            Service::Iam,
            "ShowUserMfaDevice",
            Method::GET,
            &["v3.0", "OS-MFA", "users", user_id, "virtual-mfa-device"],
        );
        let envelope = none_if_not_found(self.send_json::<MfaDeviceEnvelope>(&request).await)?;
        Ok(envelope.map(|envelope| envelope.virtual_mfa_device))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn login_protect_none_method_is_off() {
        let cases = [
            (r#"{"user_id":"u","enabled":true,"verification_method":"vmfa"}"#, true),
            (r#"{"user_id":"u","enabled":false,"verification_method":"sms"}"#, false),
            (r#"{"user_id":"u","enabled":true,"verification_method":"none"}"#, false),
        ];
        for (body, on) in cases {
            let protect: LoginProtect = serde_json::from_str(body).unwrap();
            assert_eq!(protect.is_on(), on, "{body}");
        }
    }
}
