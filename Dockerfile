# syntax=docker/dockerfile:1
# Build stage: compile a release binary with TLS support for PostgreSQL.
FROM rust:1-bookworm AS build
RUN apt-get update && apt-get install -y --no-install-recommends libssl-dev pkg-config \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# Dependencies first, in a layer of their own: built against empty sources, so a change
# to samskap's code rebuilds samskap only.
COPY Cargo.toml Cargo.lock build.rs ./
RUN mkdir -p src migrations && echo 'fn main() {}' > src/main.rs && touch src/lib.rs \
    && cargo build --release --locked --features postgres-tls \
    && rm -rf src target/release/.fingerprint/samskap-* target/release/deps/samskap-* \
        target/release/deps/libsamskap-*
COPY src ./src
COPY migrations ./migrations
COPY templates ./templates
COPY static ./static
RUN cargo build --release --locked --features postgres-tls \
    && install -m 0755 target/release/samskap /usr/local/bin/samskap

# Runtime stage: slim Debian, non-root user, data in /data.
FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates libssl3 \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home-dir /data --shell /usr/sbin/nologin samskap \
    && mkdir -p /data && chown samskap:samskap /data
COPY --from=build /usr/local/bin/samskap /usr/local/bin/samskap
COPY surveys /srv/samskap/surveys
USER samskap
WORKDIR /data
# SAMSKAP_BASE_URL must be set to the address people reach the service at: invitation
# links are made from it (`wave invite` refuses without it).
ENV DATABASE_URL=sqlite:///data/samskap.db \
    SAMSKAP_BIND=0.0.0.0:8080 \
    SAMSKAP_MAIL_DIR=/data/mail \
    SAMSKAP_SURVEYS_DIR=/srv/samskap/surveys
VOLUME ["/data"]
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["samskap", "healthcheck"]
ENTRYPOINT ["samskap"]
CMD ["serve"]
