/**
 * docker-compose.yml and deploy/ cannot be started here (no Docker engine), so their wiring is checked by reading
 * them: every Prometheus scrape target is a compose service listening on that port, the healthchecks call the
 * routes the processes serve, Grafana's dashboard queries metrics the product defines on the provisioned
 * datasource, and docs/deployment.md lists every metric.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { load } from 'js-yaml';
import type { Pool } from 'pg';
import { Histogram, Registry } from 'prom-client';
import { TEMPORAL_DYNAMIC_CONFIG } from '../../config/temporal-dynamic-config';
import { createSyncMetrics } from '../../observability/metrics';
import { registerReadModelGauges } from '../../observability/metrics-gauges';

const ROOT = path.resolve(__dirname, '..', '..');
const read = (file: string) => readFileSync(path.join(ROOT, file), 'utf8');

interface Service {
  image?: string;
  command?: string[];
  environment?: Record<string, string>;
  healthcheck?: { test: string[] };
  configs?: { source: string; target: string }[];
  secrets?: (string | { source: string })[];
}
interface Compose {
  services: Record<string, Service>;
  configs: Record<string, { file?: string; content?: string }>;
  secrets: Record<string, { file?: string; environment?: string }>;
}
interface ScrapeConfig {
  job_name: string;
  metrics_path?: string;
  authorization?: { type: string; credentials_file: string };
  static_configs?: { targets: string[] }[];
  dns_sd_configs?: { names: string[]; type: string; port: number }[];
}

const compose = load(read('docker-compose.yml')) as Compose;
const { services } = compose;

/** The repository file a service sees at `target`, through a compose config. */
function mountedFile(service: Service, target: string): string {
  const mount = service.configs?.find((c) => c.target === target);
  const file = mount && compose.configs[mount.source]?.file;
  if (!file) throw new Error(`nothing from the repository is mounted at ${target}`);
  return path.normalize(file);
}

const prometheus = services.prometheus!;
const prometheusYml = mountedFile(prometheus, '/etc/prometheus/prometheus.yml');
const scrapes = (load(read(prometheusYml)) as { scrape_configs: ScrapeConfig[] }).scrape_configs;
const job = (name: string) => {
  const found = scrapes.find((s) => s.job_name === name);
  if (!found) throw new Error(`no scrape job ${name} in ${prometheusYml}`);
  return found;
};

/** Every metric the product defines (the gauges' pool is only used when collecting). */
function productMetricNames(): Set<string> {
  const registry = new Registry();
  createSyncMetrics(registry);
  registerReadModelGauges(registry, {} as Pool);
  const names = new Set<string>();
  for (const metric of registry.getMetricsAsArray()) {
    names.add(metric.name);
    if (metric instanceof Histogram) for (const s of ['_bucket', '_sum', '_count']) names.add(metric.name + s);
  }
  return names;
}

test('Prometheus runs with the repository config and keeps its data', () => {
  expect(prometheusYml).toBe(path.normalize('./deploy/prometheus/prometheus.yml'));
  expect(prometheus.command).toContain('--config.file=/etc/prometheus/prometheus.yml');
});

test('the API job scrapes the API on the port it listens on, beyond loopback', () => {
  const api = job('mailferry-api');
  expect(api.metrics_path).toBe('/metrics');
  expect(api.static_configs).toEqual([{ targets: [`api:${services.api!.environment!.PORT}`] }]);
  expect(services.api!.environment!.HOST).toBe('0.0.0.0');
});

test('the worker job finds every worker container on its metrics port', () => {
  const worker = job('mailferry-worker');
  expect(worker.dns_sd_configs).toEqual([
    expect.objectContaining({
      names: ['worker'],
      type: 'A',
      port: Number(services.worker!.environment!.MAILFERRY_METRICS_PORT),
    }),
  ]);
  expect(services.worker!.environment!.HOST).toBe('0.0.0.0');
  // The worker keeps everything else the app anchor gives it (database, Temporal, the secret key).
  expect(services.worker!.environment).toMatchObject({ TEMPORAL_ADDRESS: 'temporal:7233' });
  expect(services.worker!.environment!.DATABASE_URL).toMatch(/@postgres:5432\/mailferry$/);
});

test('the Temporal job scrapes the server at its PROMETHEUS_ENDPOINT', () => {
  const endpoint = services.temporal!.environment!.PROMETHEUS_ENDPOINT!;
  expect(endpoint).toMatch(/^0\.0\.0\.0:\d+$/);
  expect(job('temporal').static_configs).toEqual([{ targets: [`temporal:${endpoint.split(':')[1]}`] }]);
});

test('both mailferry jobs send the metrics token that the API and the workers are given', () => {
  for (const name of ['mailferry-api', 'mailferry-worker']) {
    const auth = job(name).authorization!;
    expect(auth.type).toBe('Bearer');
    const secret = path.basename(auth.credentials_file);
    expect(auth.credentials_file).toBe(`/run/secrets/${secret}`);
    expect(prometheus.secrets?.map((s) => (typeof s === 'string' ? s : s.source))).toContain(secret);
    expect(compose.secrets[secret]).toEqual({ environment: 'MAILFERRY_METRICS_TOKEN' });
  }
  for (const name of ['api', 'worker'])
    expect(services[name]!.environment!.MAILFERRY_METRICS_TOKEN).toMatch(/^\$\{MAILFERRY_METRICS_TOKEN:\?/);
});

test('the API and worker healthchecks call the health routes on the ports they serve', () => {
  const url = (service: Service) => /fetch\('([^']+)'\)/.exec(service.healthcheck!.test.join(' '))?.[1];
  expect(url(services.api!)).toBe(`http://127.0.0.1:${services.api!.environment!.PORT}/api/v1/health`);
  expect(url(services.worker!)).toBe(`http://127.0.0.1:${services.worker!.environment!.MAILFERRY_METRICS_PORT}/health`);
});

test('Grafana gets the Prometheus datasource and a dashboard whose queries name metrics the product defines', () => {
  const grafana = services.grafana!;
  const datasources = (
    load(read(mountedFile(grafana, '/etc/grafana/provisioning/datasources/prometheus.yml'))) as {
      datasources: { uid: string; type: string; url: string }[];
    }
  ).datasources;
  expect(datasources).toEqual([expect.objectContaining({ type: 'prometheus', url: 'http://prometheus:9090' })]);
  const provider = (
    load(read(mountedFile(grafana, '/etc/grafana/provisioning/dashboards/mailferry.yml'))) as {
      providers: { options: { path: string } }[];
    }
  ).providers[0]!;
  const dashboardFile = mountedFile(grafana, `${provider.options.path}/mailferry.json`);
  const dashboard = JSON.parse(read(dashboardFile)) as {
    panels: { type: string; title: string; datasource?: { uid: string }; targets?: { expr: string }[] }[];
  };

  const known = productMetricNames();
  const used = new Set<string>();
  for (const panel of dashboard.panels.filter((p) => p.type !== 'row')) {
    expect({ panel: panel.title, uid: panel.datasource?.uid }).toEqual({
      panel: panel.title,
      uid: datasources[0]!.uid,
    });
    for (const target of panel.targets ?? [])
      for (const [name] of target.expr.matchAll(/\bmailferry_\w+/g)) used.add(name);
  }
  expect([...used].filter((name) => !known.has(name))).toEqual([]);
  // The dashboard shows every product metric family.
  const families = [...known].filter((n) => !/_(bucket|sum|count)$/.test(n));
  expect(families.filter((n) => ![...used].some((u) => u.startsWith(n)))).toEqual([]);
});

test('the Temporal server and its admin tools are one release, and no image floats', () => {
  const tag = (service: string) => services[service]!.image!.split(':')[1];
  expect(tag('temporal-schema')).toBe(tag('temporal'));
  expect(tag('temporal-setup')).toBe(tag('temporal'));
  for (const [name, service] of Object.entries(services)) {
    if (!service.image || name === 'worker' || name === 'api') continue;
    expect({ name, image: service.image }).toEqual({ name, image: expect.stringMatching(/:v?\d+\.\d+(\.\d+)?$/) });
  }
});

test('the Temporal server runs with the dynamic config the dev server is given', () => {
  const temporal = services.temporal!;
  const target = temporal.environment!.DYNAMIC_CONFIG_FILE_PATH!;
  const mount = temporal.configs!.find((c) => c.target === target)!;
  const settings = load(compose.configs[mount.source]!.content!) as Record<string, { value: unknown }[]>;
  for (const [key, value] of Object.entries(TEMPORAL_DYNAMIC_CONFIG)) {
    expect({ key, value: settings[key] }).toEqual({ key, value: [{ value }] });
  }
});

test('docs/deployment.md lists every metric the product defines', () => {
  const docs = read('docs/deployment.md');
  const families = [...productMetricNames()].filter((n) => !/_(bucket|sum|count)$/.test(n));
  expect(families.filter((name) => !docs.includes(`\`${name}\``))).toEqual([]);
});
