import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import semver from 'semver';
import { parse } from 'yaml';
import { ConfigError, loadConfig, VARIABLES } from '../src/config/config.js';
import { REPO } from './real-processes.js';

/** The self-hosted deploy as files: docker-compose.yml, the Dockerfile, the load balancer config
 *  and docs/deploy.md, checked without a Docker engine. */

interface Service {
  image?: string;
  build?: unknown;
  environment?: Record<string, string | number | null>;
  depends_on?: Record<string, { condition?: string }>;
  healthcheck?: { test?: string[] | string; interval?: string };
  profiles?: string[];
  ports?: string[];
  volumes?: string[];
  stop_grace_period?: string;
}

const composeText = readFileSync(join(REPO, 'docker-compose.yml'), 'utf8');
const compose = parse(composeText, { merge: true }) as { services: Record<string, Service>; volumes?: Record<string, unknown> };
const services = compose.services;
const serverNames = Object.keys(services).filter((name) => services[name]!.build !== undefined);
const dockerfile = readFileSync(join(REPO, 'Dockerfile'), 'utf8');

/** An image reference pinned to a version: a tag with a digit, never `latest`, or a digest. */
function pinned(image: string): boolean {
  if (/@sha256:[0-9a-f]{64}$/.test(image)) return true;
  const tag = /:([^/:]+)$/.exec(image)?.[1];
  return tag !== undefined && tag !== 'latest' && /\d/.test(tag) && !/^latest-/.test(tag);
}

function hasDockerCompose(): boolean {
  try {
    execFileSync('docker-compose', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe('docker-compose.yml', () => {
  it('has postgres, redis and the server by default, and a second instance behind a load balancer in the ha profile', () => {
    expect(Object.keys(services).sort()).toEqual(['lb', 'postgres', 'redis', 'server', 'server-2']);
    for (const name of ['postgres', 'redis', 'server']) expect(services[name]!.profiles, name).toBeUndefined();
    for (const name of ['server-2', 'lb']) expect(services[name]!.profiles, name).toEqual(['ha']);
    expect(serverNames.sort()).toEqual(['server', 'server-2']);
  });

  it('pins every image to a version', () => {
    for (const [name, service] of Object.entries(services)) {
      expect(service.image, name).toBeDefined();
      expect(pinned(service.image!), `${name}: ${service.image}`).toBe(true);
    }
    expect(composeText).not.toMatch(/:latest\b/);
  });

  it('gives every service a healthcheck, and starts each after what it needs is healthy', () => {
    for (const [name, service] of Object.entries(services)) {
      expect(service.healthcheck?.test, name).toBeDefined();
    }
    expect(services.postgres!.healthcheck!.test).toEqual(expect.arrayContaining([expect.stringMatching(/pg_isready/)]));
    expect(services.redis!.healthcheck!.test).toEqual(expect.arrayContaining(['redis-cli', 'ping']));
    for (const name of serverNames) {
      expect(JSON.stringify(services[name]!.healthcheck!.test)).toMatch(/\/healthz/);
      expect(services[name]!.depends_on).toMatchObject({ postgres: { condition: 'service_healthy' }, redis: { condition: 'service_healthy' } });
    }
    // The second instance waits for the first, so two never run the same migration at once.
    expect(services['server-2']!.depends_on).toMatchObject({ server: { condition: 'service_healthy' } });
    expect(services.lb!.depends_on).toMatchObject({ server: { condition: 'service_healthy' }, 'server-2': { condition: 'service_healthy' } });
  });

  it('keeps Postgres data in a named volume and publishes the server on 4000 and the balancer on 8080', () => {
    expect(services.postgres!.volumes).toContain('pgdata:/var/lib/postgresql/data');
    expect(compose.volumes).toHaveProperty('pgdata');
    expect(services.server!.ports).toContain('4000:4000');
    expect(services.lb!.ports).toContain('8080:8080');
  });

  it('sets only environment variables the server config knows, and points them at the compose services', () => {
    const known = new Set<string>(VARIABLES);
    for (const name of serverNames) {
      const env = services[name]!.environment ?? {};
      const unknown = Object.keys(env).filter((key) => !known.has(key));
      expect(unknown, `${name} sets variables config.ts does not read`).toEqual([]);
      expect(env.DATABASE_URL).toMatch(/^postgres:\/\/aviary:.*@postgres:5432\/aviary$/);
      expect(env.REDIS_URL).toBe('redis://redis:6379');
      expect(String(env.PORT)).toBe('4000');
    }
  });

  it('gives a stop more time than the server takes to drain', () => {
    const drainMs = Number(services.server!.environment!.AVIARY_SHUTDOWN_TIMEOUT_MS);
    for (const name of serverNames) {
      const grace = /^(\d+)s$/.exec(services[name]!.stop_grace_period ?? '');
      expect(grace, name).not.toBeNull();
      expect(Number(grace![1]) * 1000).toBeGreaterThan(drainMs);
    }
  });

  // Skipped, and shown as skipped, where docker-compose is not installed (`apt-get install -y docker-compose`).
  it.skipIf(!hasDockerCompose())('validates with docker-compose config, with and without the ha profile', () => {
    for (const args of [['config', '-q'], ['--profile', 'ha', 'config', '-q']]) {
      execFileSync('docker-compose', ['-f', 'docker-compose.yml', ...args], { cwd: REPO, stdio: 'pipe' });
    }
  });
});

describe('load balancer (deploy/haproxy.cfg)', () => {
  const lbVolume = services.lb!.volumes!.find((v) => v.includes('haproxy.cfg'))!;
  const cfg = readFileSync(join(REPO, lbVolume.split(':')[0]!), 'utf8');

  it('balances exactly the compose server instances, checking /readyz', () => {
    const backends = [...cfg.matchAll(/^\s*server\s+(\S+)\s+(\S+):4000\b/gm)].map((m) => m[2]);
    expect(backends.sort()).toEqual(serverNames.sort());
    expect(cfg).toMatch(/option httpchk GET \/readyz/);
    expect(cfg).toMatch(/default-server[^\n]*\bcheck\b/);
  });

  it('keeps streams open longer than the 15 s heartbeat and hides /metrics', () => {
    for (const name of ['client', 'server']) {
      const timeout = new RegExp(`timeout ${name}\\s+(\\d+)s`).exec(cfg);
      expect(timeout, name).not.toBeNull();
      expect(Number(timeout![1])).toBeGreaterThanOrEqual(30);
    }
    expect(cfg).toMatch(/deny[^\n]*path \/metrics/);
  });
});

describe('Dockerfile', () => {
  const images = [...dockerfile.matchAll(/^ARG NODE_IMAGE=(\S+)$/gm)].map((m) => m[1]!);
  const stages = dockerfile.split(/^FROM /m).slice(1);
  const runtime = stages[stages.length - 1]!;

  it('builds from a pinned Node 20 slim image in two stages', () => {
    expect(images).toHaveLength(1);
    expect(images[0]).toMatch(/^node:20\.\d+\.\d+-[a-z]+-slim$/);
    expect(stages.map((s) => /AS (\w+)/.exec(s)?.[1])).toEqual(['build', 'runtime']);
    expect(stages[0]).toMatch(/RUN npm ci\b/);
    expect(stages[0]).toMatch(/tsc -b apps\/server\/tsconfig\.lib\.json/);
  });

  it('installs production dependencies only, runs as a non-root user, exposes 4000 and checks /healthz', () => {
    expect(runtime).toMatch(/RUN npm ci --omit=dev --workspace @aviary\/server/);
    expect(runtime).toMatch(/^USER node$/m);
    expect(runtime).toMatch(/^EXPOSE 4000$/m);
    expect(runtime).toMatch(/^HEALTHCHECK [\s\S]*\/healthz/m);
  });

  it('starts what `npm start` starts', () => {
    const start = (JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts.start!;
    const cmd = JSON.parse(/^CMD (\[.*\])$/m.exec(runtime)![1]!) as string[];
    expect(start).toContain(cmd.join(' '));
  });

  it('pins a Node that every production dependency of the server supports, and engines says the same floor', () => {
    const image = /^ARG NODE_IMAGE=node:(\d+\.\d+\.\d+)-/m.exec(dockerfile)![1]!;
    const floor = (JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { engines: { node: string } }).engines.node;
    expect(semver.satisfies(image, floor), `the image's Node ${image} is outside engines ${floor}`).toBe(true);
    const lowest = semver.minVersion(floor)!.version;
    const installed = JSON.parse(execFileSync('npm', ['query', '.prod', '--workspace', '@aviary/server'], { cwd: REPO, encoding: 'utf8' })) as Array<{ name: string; version: string; engines?: { node?: string } }>;
    expect(installed.length).toBeGreaterThan(50);
    const unsupported = installed.filter((p) => p.engines?.node && !semver.satisfies(lowest, p.engines.node)).map((p) => `${p.name}@${p.version} wants node ${p.engines!.node}`);
    expect(unsupported, `engines says ${floor}`).toEqual([]);
  });

  it('keeps dependencies, builds and local state out of the build context', () => {
    const ignored = readFileSync(join(REPO, '.dockerignore'), 'utf8').split('\n');
    for (const entry of ['**/node_modules', '**/dist', '.git', '.aviary']) expect(ignored).toContain(entry);
  });
});

describe('docs/deploy.md', () => {
  it('documents every environment variable the server reads', () => {
    const doc = readFileSync(join(REPO, 'docs/deploy.md'), 'utf8');
    const missing = VARIABLES.filter((name) => !new RegExp(`^\\|\\s*\`${name}\``, 'm').test(doc));
    expect(missing).toEqual([]);
  });

  it('exists next to the files it describes', () => {
    expect(existsSync(join(REPO, 'deploy/haproxy.cfg'))).toBe(true);
  });
});

describe('configuration errors never show secrets', () => {
  it('does not echo a bad AVIARY_ADMIN_TOKEN', () => {
    const token = 'ava_short!secret';
    expect(() => loadConfig({ AVIARY_ADMIN_TOKEN: token })).toThrow(ConfigError);
    try {
      loadConfig({ AVIARY_ADMIN_TOKEN: token });
    } catch (err) {
      expect((err as Error).message).toMatch(/AVIARY_ADMIN_TOKEN: /);
      expect((err as Error).message).not.toContain('secret');
    }
  });

  it('masks the password of a URL it refuses', () => {
    try {
      loadConfig({ DATABASE_URL: 'postgres://aviary:hunter2@db:5432/aviary extra' });
      expect.unreachable();
    } catch (err) {
      expect((err as Error).message).toMatch(/DATABASE_URL: /);
      expect((err as Error).message).not.toContain('hunter2');
    }
  });

  it('reads the operations settings', () => {
    const config = loadConfig({
      AVIARY_CORS_ORIGINS: 'https://app.example.com, http://localhost:3000',
      AVIARY_RATE_LIMIT_ADMIN: '0',
      AVIARY_RATE_LIMIT_WINDOW_S: '10',
      AVIARY_TRUST_PROXY: '1',
      AVIARY_SHUTDOWN_TIMEOUT_MS: '5000',
      LOG_FORMAT: 'pretty',
    });
    expect(config).toMatchObject({
      corsOrigins: ['https://app.example.com', 'http://localhost:3000'],
      rateLimit: { admin: 0, sdkMetrics: 600, windowMs: 10_000 },
      trustProxy: 1,
      shutdownTimeoutMs: 5000,
      logFormat: 'pretty',
    });
    expect(() => loadConfig({ AVIARY_CORS_ORIGINS: 'https://app.example.com/path' })).toThrow(/AVIARY_CORS_ORIGINS: /);
  });
});
