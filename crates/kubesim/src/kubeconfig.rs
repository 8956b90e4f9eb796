//! Kubeconfig output pointing at the simulator over plain HTTP. kubectl and kube-rs accept
//! an `http://` server URL and then send no credentials that need TLS.

/// Renders a kubeconfig with one cluster, user and context named `kubesim`, namespace `default`.
pub fn render(base_url: &str) -> String {
    render_with_token(base_url, None)
}

/// Renders the kubeconfig with a bearer token for the user, or no credentials.
pub fn render_with_token(base_url: &str, token: Option<&str>) -> String {
    let user = match token {
        Some(token) => format!("{{token: \"{token}\"}}"),
        None => "{}".to_string(),
    };
    format!(
        "apiVersion: v1
kind: Config
clusters:
- name: kubesim
  cluster:
    server: {base_url}
users:
- name: kubesim
  user: {user}
contexts:
- name: kubesim
  context:
    cluster: kubesim
    user: kubesim
    namespace: default
current-context: kubesim
preferences: {{}}
"
    )
}
