//! Baton in the browser: a Leptos single-page app over Automerge documents.

pub mod selection;

use leptos::prelude::*;

/// The server's answer to `/healthz`.
#[derive(Debug, Clone, serde::Deserialize)]
struct Health {
    status: String,
}

async fn server_status() -> Result<String, String> {
    let response = gloo_net::http::Request::get("/healthz")
        .send()
        .await
        .map_err(|e| format!("the server cannot be reached ({e})"))?;
    if !response.ok() {
        return Err(format!("the server answered {}", response.status()));
    }
    let health: Health = response
        .json()
        .await
        .map_err(|e| format!("the server sent an unexpected answer ({e})"))?;
    Ok(health.status)
}

/// The whole app.
#[component]
pub fn App() -> impl IntoView {
    let status = LocalResource::new(server_status);
    view! {
        <main class="boot">
            <h1>"Baton"</h1>
            <p data-testid="server-status" role="status">
                <Suspense fallback=|| "Connecting to the server…">
                    {move || status.get().map(|answer| match answer {
                        Ok(state) => format!("Server: {state}"),
                        Err(problem) => format!("Offline: {problem}"),
                    })}
                </Suspense>
            </p>
            <p class="note">
                "The inbox is not in the browser yet. The server, its HTTP API and live sync are \
                running; the README shows how to use them."
            </p>
        </main>
    }
}
