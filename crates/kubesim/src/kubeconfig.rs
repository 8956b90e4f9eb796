//! Kubeconfig output pointing at the simulator over plain HTTP. kubectl and kube-rs accept
//! an `http://` server URL and then send no credentials that need TLS.

/// Renders a kubeconfig with one cluster, user and context named `kubesim`, namespace `default`.
pub fn render(base_url: &str) -> String {
    format!(
        "apiVersion: v1
kind: Config
clusters:
- name: kubesim
  cluster:
    server: {base_url}
users:
- name: kubesim
  user: {{}}
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
