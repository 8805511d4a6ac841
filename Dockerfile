# Multi-stage build: compile in the Rust image, run on a slim Debian with only libpq.
FROM rust:1-bookworm AS build
WORKDIR /src
RUN apt-get update && apt-get install -y --no-install-recommends libpq-dev && rm -rf /var/lib/apt/lists/*
COPY Cargo.toml Cargo.lock ./
COPY src ./src
COPY migrations ./migrations
COPY openapi ./openapi
RUN cargo build --release --locked

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends libpq5 ca-certificates curl \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --home /var/lib/ccreg --create-home ccreg \
    && install -d -o ccreg -g ccreg -m 0700 /var/lib/ccreg/keys
COPY --from=build /src/target/release/ccreg /usr/local/bin/ccreg
USER ccreg
WORKDIR /var/lib/ccreg
ENV CCREG_BIND=0.0.0.0:8080 \
    CCREG_DATABASE_URL=sqlite:///var/lib/ccreg/ccreg.db \
    CCREG_KEY_DIR=/var/lib/ccreg/keys \
    RUST_LOG=info
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --retries=5 CMD curl -fs http://127.0.0.1:8080/readyz || exit 1
ENTRYPOINT ["ccreg"]
CMD ["serve"]
