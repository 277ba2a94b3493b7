//! `flow serve`: open the store, take up what a crash left, listen, and stop
//! cleanly on SIGTERM/SIGINT (SERVER.md "Starting it", "Keys, start, stop").

use crate::app::{App, MAX_STREAMS};
use crate::catalog::SqliteCatalog;
use crate::clock::ServerClock;
use crate::{background, routes};
use axum::http::{HeaderValue, Request};
use flow_runtime::Runtime;
use flow_runtime::store::{SqliteStore, Store};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tower_http::LatencyUnit;
use tower_http::request_id::{MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer};
use tower_http::trace::{DefaultOnResponse, TraceLayer};

/// How the server was asked to run.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where to listen.
    pub listen: SocketAddr,
    /// The SQLite store's path.
    pub store: PathBuf,
    /// Serve without keys (loopback only).
    pub no_auth: bool,
    /// Where workflows' relative paths resolve.
    pub root: Option<PathBuf>,
    /// Only these environment variables may be read as secrets.
    pub secrets: Option<Vec<String>>,
    /// Delete finished runs older than this many days.
    pub retain_finished: Option<u32>,
    /// `FLOW_CLOCK`'s value.
    pub clock: Option<String>,
    /// The most event streams open at once.
    pub max_streams: usize,
}

impl Config {
    /// A configuration with the defaults of SERVER.md.
    pub fn new(listen: SocketAddr, store: PathBuf) -> Config {
        Config {
            listen,
            store,
            no_auth: false,
            root: None,
            secrets: None,
            retain_finished: None,
            clock: None,
            max_streams: MAX_STREAMS,
        }
    }
}

/// Why the server could not start (exit 2) or failed while serving (exit 1).
#[derive(Debug)]
pub enum ServeError {
    /// A bad configuration, or a store another server uses: exit 2.
    Usage(String),
    /// Something failed while serving: exit 1.
    Failed(String),
}

impl std::fmt::Display for ServeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ServeError::Usage(m) | ServeError::Failed(m) => f.write_str(m),
        }
    }
}

/// Installs the log: JSON lines unless `pretty` (a terminal), filtered by
/// `FLOW_LOG` (default `info`).
pub fn init_logging(pretty: bool) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("FLOW_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = if pretty {
        builder.compact().try_init()
    } else {
        builder.json().flatten_event(true).with_current_span(true).try_init()
    };
}

/// Request ids: UUID v7, sent back as `x-request-id` and logged with the request.
#[derive(Clone, Copy)]
struct Ids;

impl MakeRequestId for Ids {
    fn make_request_id<B>(&mut self, _: &Request<B>) -> Option<RequestId> {
        HeaderValue::from_str(&uuid::Uuid::now_v7().to_string())
            .ok()
            .map(RequestId::new)
    }
}

/// Runs the server until SIGTERM or SIGINT.
pub async fn serve(config: Config) -> Result<(), ServeError> {
    if config.no_auth && !config.listen.ip().is_loopback() {
        return Err(ServeError::Usage(format!(
            "--no-auth is refused on {}: it is allowed only on a loopback address (127.0.0.1, ::1)",
            config.listen
        )));
    }
    let clock = ServerClock::new(config.clock.as_deref(), config.secrets.clone()).map_err(ServeError::Usage)?;
    let store = SqliteStore::open(&config.store).map_err(|e| ServeError::Usage(e.to_string()))?;
    let store: Arc<dyn Store> = Arc::new(store);
    let catalog = SqliteCatalog::open(&config.store, true).map_err(|e| ServeError::Usage(e.to_string()))?;
    let mut runtime = Runtime::new(store);
    runtime.set_clock(clock);
    let app = Arc::new(App::new(runtime, Arc::new(catalog), config.no_auth, config.max_streams));
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|e| ServeError::Usage(format!("cannot listen on {}: {e}", config.listen)))?;
    let bound = listener.local_addr().map_err(|e| ServeError::Failed(e.to_string()))?;

    tokio::spawn(Arc::clone(&app).hub.clone().pump(app.runtime.subscribe()));
    tokio::spawn(background::timers(Arc::clone(&app)));
    tokio::spawn(background::take_up(Arc::clone(&app)));
    if let Some(days) = config.retain_finished {
        tokio::spawn(background::retention(Arc::clone(&app), days));
    }

    let router = routes::router(Arc::clone(&app)).layer(
        tower::ServiceBuilder::new()
            .layer(SetRequestIdLayer::x_request_id(Ids))
            .layer(TraceLayer::new_for_http().make_span_with(|req: &Request<_>| {
                let id = req
                    .headers()
                    .get("x-request-id")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("");
                tracing::info_span!("request", method = %req.method(), path = %logged_path(req.uri().path()), request_id = %id)
            })
            .on_response(DefaultOnResponse::new().level(tracing::Level::INFO).latency_unit(LatencyUnit::Millis)))
            .layer(PropagateRequestIdLayer::x_request_id())
            .layer(tower_http::timeout::RequestBodyTimeoutLayer::new(Duration::from_secs(30))),
    );
    eprintln!("listening on http://{bound}");
    tracing::info!(address = %bound, store = %config.store.display(), "serving");

    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(Duration::from_secs(10));
    let graceful = GracefulShutdown::new();
    let mut signal = std::pin::pin!(shutdown_signal());
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                let _ = stream.set_nodelay(true);
                let service = TowerToHyperService::new(router.clone());
                let conn = http.serve_connection(TokioIo::new(stream), service);
                let conn = graceful.watch(conn);
                tokio::spawn(async move {
                    let _ = conn.await;
                });
            }
            _ = &mut signal => break,
        }
    }
    tracing::info!("stopping: finishing requests and steps in flight (at most 10 s)");
    app.stopping.send_replace(true);
    drop(listener);
    let _ = tokio::time::timeout(Duration::from_secs(10), graceful.shutdown()).await;
    app.turns.close();
    if tokio::time::timeout(Duration::from_secs(10), app.turns.wait())
        .await
        .is_err()
    {
        tracing::warn!("steps still running after 10 s are abandoned uncommitted; they are taken again on restart");
    }
    tracing::info!("stopped");
    Ok(())
}

/// A path as logged: a hook's token never is.
fn logged_path(path: &str) -> String {
    match path.strip_prefix("/v1/hooks/") {
        Some(_) => "/v1/hooks/…".to_string(),
        None => path.to_string(),
    }
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match (signal(SignalKind::terminate()), signal(SignalKind::interrupt())) {
            (Ok(mut term), Ok(mut int)) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = int.recv() => {}
                }
            }
            _ => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
