//! Logging set-up: `tracing` to stderr as text or JSON lines, filtered by
//! `--log`, and — when built with the `otel` feature and given an OTLP
//! endpoint (`OTEL_EXPORTER_OTLP_ENDPOINT`) — the same spans exported as
//! OpenTelemetry traces over OTLP/HTTP.
//!
//! Spans carry what `http::spans` puts in them (request id, method, path);
//! nothing here adds query text or variables.

use std::io::IsTerminal as _;

use tracing_subscriber::EnvFilter;
use tracing_subscriber::Layer as _;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;

use crate::config::{LogConfig, LogFormat};

/// What has to be flushed before the process exits.
pub struct Telemetry {
    #[cfg(feature = "otel")]
    provider: Option<opentelemetry_sdk::trace::SdkTracerProvider>,
}

impl Telemetry {
    /// Sends the spans still buffered for export.
    pub fn shutdown(self) {
        #[cfg(feature = "otel")]
        if let Some(provider) = self.provider
            && let Err(error) = provider.shutdown()
        {
            eprintln!("could not flush OpenTelemetry spans: {error}");
        }
    }
}

/// Installs the global subscriber. Call once, first thing in `main`.
pub fn init(config: &LogConfig) -> Telemetry {
    let filter = EnvFilter::try_new(&config.filter).unwrap_or_else(|_| EnvFilter::new("info"));
    // Colours only on a terminal: a log file or collector gets plain text.
    let output = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal());
    let output = match config.format {
        LogFormat::Json => output.json().boxed(),
        LogFormat::Text => output.boxed(),
    };
    let registry = tracing_subscriber::registry().with(filter).with(output);

    #[cfg(feature = "otel")]
    {
        let (layer, provider, failure) = match config.otlp_endpoint.as_deref().map(otel::tracer) {
            Some(Ok((layer, provider))) => (Some(layer), Some(provider), None),
            Some(Err(error)) => (None, None, Some(error)),
            None => (None, None, None),
        };
        registry.with(layer).init();
        if let Some(error) = failure {
            tracing::error!(%error, "OpenTelemetry export is off: the OTLP exporter could not be built");
        }
        Telemetry { provider }
    }

    #[cfg(not(feature = "otel"))]
    {
        registry.init();
        if config.otlp_endpoint.is_some() {
            tracing::warn!(
                "OTEL_EXPORTER_OTLP_ENDPOINT is set, but this build has no `otel` feature: no traces are exported"
            );
        }
        Telemetry {}
    }
}

#[cfg(feature = "otel")]
mod otel {
    use opentelemetry::trace::TracerProvider as _;
    use opentelemetry_otlp::{SpanExporter, WithExportConfig as _};
    use opentelemetry_sdk::Resource;
    use opentelemetry_sdk::trace::SdkTracerProvider;
    use tracing_subscriber::Registry;
    use tracing_subscriber::layer::Layered;

    type Base = Layered<
        Box<dyn tracing_subscriber::Layer<Layered<tracing_subscriber::EnvFilter, Registry>> + Send + Sync>,
        Layered<tracing_subscriber::EnvFilter, Registry>,
    >;
    pub type OtelLayer = tracing_opentelemetry::OpenTelemetryLayer<Base, opentelemetry_sdk::trace::Tracer>;

    /// A layer exporting spans to `endpoint` (the OTLP base URL, as in
    /// `OTEL_EXPORTER_OTLP_ENDPOINT`; traces go to its `/v1/traces`).
    pub fn tracer(endpoint: &str) -> Result<(OtelLayer, SdkTracerProvider), opentelemetry_otlp::ExporterBuildError> {
        let exporter = SpanExporter::builder()
            .with_http()
            .with_endpoint(format!("{}/v1/traces", endpoint.trim_end_matches('/')))
            .build()?;
        let provider = SdkTracerProvider::builder()
            .with_batch_exporter(exporter)
            .with_resource(Resource::builder().with_service_name("accord").build())
            .build();
        let layer = tracing_opentelemetry::layer().with_tracer(provider.tracer("accord"));
        Ok((layer, provider))
    }
}
