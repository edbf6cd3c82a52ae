/**
 * Proxy selection from the conventional environment variables, the way curl
 * and most package managers read them, so plrust behaves like the rest of
 * a user's tools behind a corporate proxy.
 */
import type { Agent as HttpAgent } from 'node:http';
import type { Agent as HttpsAgent } from 'node:https';
import { BlockList, isIP } from 'node:net';
import { HttpProxyAgent, HttpsProxyAgent } from 'hpagent';
import { usageError } from './errors.js';

export interface ProxyAgents {
  http?: HttpAgent;
  https?: HttpsAgent;
}

function envValue(env: NodeJS.ProcessEnv, names: readonly string[]): { name: string; value: string } | undefined {
  for (const name of names) {
    const value = env[name]?.trim();
    if (value) return { name, value };
  }
  return undefined;
}

function defaultPort(url: URL): string {
  return url.port || (url.protocol === 'https:' ? '443' : '80');
}

function bareHost(hostname: string): string {
  return hostname
    .replace(/^\[(.*)\]$/, '$1')
    .replace(/\.$/, '')
    .toLowerCase();
}

/** Splits `host`, `host:port`, `[v6]:port`; a bare IPv6 address has no port. */
function splitHostPort(entry: string): { host: string; port: string | undefined } {
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(entry);
  if (bracketed) return { host: bracketed[1]!, port: bracketed[2] };
  if (isIP(entry) === 6) return { host: entry, port: undefined };
  const m = /^(.*):(\d+)$/.exec(entry);
  return m ? { host: m[1]!, port: m[2] } : { host: entry, port: undefined };
}

function matchesCidr(host: string, cidr: string): boolean {
  const [net, bits] = cidr.split('/');
  const family = isIP(net ?? '');
  const hostFamily = isIP(host);
  if (!family || family !== hostFamily || !/^\d+$/.test(bits ?? '')) return false;
  const list = new BlockList();
  const type = family === 4 ? 'ipv4' : 'ipv6';
  list.addSubnet(net!, Number(bits), type);
  return list.check(host, type);
}

/**
 * Whether `url` must be fetched directly according to a NO_PROXY value:
 * comma- or space-separated entries, each `*`, a host name (matching it and
 * its subdomains; a leading `.` or `*.` is accepted), an IP address, an IP
 * range in CIDR form, optionally with `:port` to apply to that port only.
 */
export function bypassesProxy(url: URL, noProxy: string | undefined): boolean {
  if (!noProxy) return false;
  const host = bareHost(url.hostname);
  const port = defaultPort(url);
  for (const raw of noProxy.split(/[\s,]+/)) {
    const entry = raw.trim().toLowerCase();
    if (!entry) continue;
    if (entry === '*') return true;
    if (entry.includes('/')) {
      if (matchesCidr(host, entry)) return true;
      continue;
    }
    const split = splitHostPort(entry);
    if (split.port !== undefined && split.port !== port) continue;
    const pattern = split.host.replace(/^\*?\./, '').replace(/\.$/, '');
    if (!pattern) continue;
    if (host === pattern || (isIP(host) === 0 && host.endsWith(`.${pattern}`))) return true;
  }
  return false;
}

/** The proxy to use for `url`, or undefined for a direct connection. */
export function proxyForUrl(url: URL, env: NodeJS.ProcessEnv = process.env): URL | undefined {
  // Lower case first: curl ignores upper-case HTTP_PROXY for CGI safety,
  // but every tool accepts the lower-case spelling.
  const names = url.protocol === 'https:' ? ['https_proxy', 'HTTPS_PROXY'] : ['http_proxy', 'HTTP_PROXY'];
  const proxy = envValue(env, names);
  if (!proxy) return undefined;
  if (bypassesProxy(url, envValue(env, ['no_proxy', 'NO_PROXY'])?.value)) return undefined;
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(proxy.value) ? proxy.value : `http://${proxy.value}`;
  let parsed: URL;
  try {
    parsed = new URL(withScheme);
  } catch {
    throw usageError(
      'INVALID_PROXY',
      `${proxy.name}=${proxy.value} is not a valid proxy URL`,
      `Set ${proxy.name} to a URL such as http://proxy.example:3128, or unset it`,
    );
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw usageError(
      'INVALID_PROXY',
      `${proxy.name} uses ${parsed.protocol.slice(0, -1)}, but only http and https proxies are supported`,
      `Point ${proxy.name} at an HTTP proxy, or unset it`,
    );
  }
  return parsed;
}

/** Connection agents for `url`, or undefined when it is fetched directly. */
export function proxyAgentsFor(url: URL, env: NodeJS.ProcessEnv = process.env): ProxyAgents | undefined {
  const proxy = proxyForUrl(url, env);
  if (!proxy) return undefined;
  return url.protocol === 'https:'
    ? { https: new HttpsProxyAgent({ proxy, keepAlive: false }) }
    : { http: new HttpProxyAgent({ proxy, keepAlive: false }) };
}
