# gitintent's image: `docker build -t gitintent .` (CI does not build it here:
# no container runtime on the CI machine; deploy/ expects it as
# ghcr.io/gitintent/gitintent:<version>).
FROM rust:1.95-bookworm AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends pkg-config libssl-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN cargo build --release --locked --bin gitintent

FROM debian:bookworm-slim
# git for the repositories, CA certificates for HTTPS and PostgreSQL TLS,
# libssl3 for libgit2's https.
RUN apt-get update \
 && apt-get install -y --no-install-recommends git ca-certificates libssl3 \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --user-group --home-dir /var/lib/gitintent --create-home gitintent
COPY --from=build /src/target/release/gitintent /usr/local/bin/gitintent
USER 10001:10001
EXPOSE 8080
ENTRYPOINT ["gitintent"]
CMD ["serve", "--config", "/etc/gitintent/gitintent.toml"]
