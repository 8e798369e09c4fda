// node-oidc-provider (npm `oidc-provider`, v9) as an interop target of obo-conformance.
//
//   OBO_MODE=plain|obo  PORT=3000  INTERACTION_URLS=shared|split  [ACTOR_KEYS_DIR=DIR]  node server.mjs
//
// plain: a stock OAuth 2.0 authorization-code + PKCE server that knows nothing of the draft.
// obo:   the same server with the draft added only through the provider's extension points:
//        - `extraParams.requested_actor` (validated against the actor registry, draft §4.1.2 step 2)
//        - a consent policy check: consent given for one actor does not cover another (§5)
//        - the consent page names client, actor and scopes (§4.1.2 step 3)
//        - a Koa middleware before the token endpoint: a code issued for a requested_actor is
//          redeemed only with an `actor_token` (a JWT the AS issued to that actor by
//          client_credentials) whose `sub` equals the actor bound to the code (§4.2.2, §5)
//        - `extraTokenClaims`: JWT access tokens carry `act: {sub: actor}` (§4.3)
//        - the same middleware burns a code whose redemption failed after client authentication
//          (AMB-26), which the stock provider does not do
//
// Login and consent are served by one tiny HTML UI. With INTERACTION_URLS=shared (the
// provider's usual shape) both pages live at `/interaction/<uid>`; with `split` the provider's
// `interactions.url` hook puts the prompt name in the path (`/interaction/<uid>/login`,
// `/interaction/<uid>/consent`) so that a URL-only page matcher can tell them apart.
//
// A small resource server is mounted at /resource (files.read), /resource/write (files.write)
// and /resource/actor/<id> (files.read and act.sub == id).
//
// Prints `http://127.0.0.1:PORT` on stdout once it accepts connections.

import { createServer } from 'node:http';
import { URL } from 'node:url';
import * as querystring from 'node:querystring';

import Provider, { errors, interactionPolicy } from 'oidc-provider';
import * as jose from 'jose';

const MODE = process.env.OBO_MODE ?? 'plain';
const PORT = Number(process.env.PORT ?? 3000);
const URLS = process.env.INTERACTION_URLS ?? 'shared';
if (!['plain', 'obo'].includes(MODE)) throw new Error(`OBO_MODE must be plain or obo, got ${MODE}`);
if (!['shared', 'split'].includes(URLS)) throw new Error(`INTERACTION_URLS must be shared or split, got ${URLS}`);
const OBO = MODE === 'obo';

const ISSUER = `http://127.0.0.1:${PORT}`;
const RESOURCE = `${ISSUER}/resource`;
const RS_SCOPES = 'files.read files.write calendar.read';

// Demo registry (the same names as the reference server's, so profiles read alike).
const USERS = { alice: { password: 'alice-password', sub: 'user-alice' } };
const ACTORS = {
  'agent-a': { secret: 'agent-a-secret', name: 'Agent A (travel)' },
  'agent-b': { secret: 'agent-b-secret', name: 'Agent B (finance)' },
};
const codeClient = (id, secret, method, redirect) => ({
  client_id: id,
  ...(secret ? { client_secret: secret } : {}),
  token_endpoint_auth_method: method,
  redirect_uris: [redirect],
  grant_types: ['authorization_code', 'refresh_token'],
  response_types: ['code'],
});
const clients = [
  { ...codeClient('obo-client', 'obo-client-secret', 'client_secret_basic', 'https://client.example/cb'), client_name: 'OBO demo client' },
  codeClient('obo-client-2', 'obo-client-2-secret', 'client_secret_post', 'https://second.example/cb'),
  codeClient('obo-public', undefined, 'none', 'https://public.example/cb'),
  ...Object.entries(ACTORS).map(([id, a]) => ({
    client_id: id,
    client_secret: a.secret,
    client_name: a.name,
    grant_types: ['client_credentials'],
    response_types: [],
    redirect_uris: [],
  })),
];

// Keys: one ES256 key (access and actor tokens), one RS256 key (the provider's ID-token default).
const es = await jose.generateKeyPair('ES256', { extractable: true });
const rs = await jose.generateKeyPair('RS256', { extractable: true });
const esJwk = { ...(await jose.exportJWK(es.privateKey)), kid: 'es-1', alg: 'ES256', use: 'sig' };
const rsJwk = { ...(await jose.exportJWK(rs.privateKey)), kid: 'rs-1', alg: 'RS256', use: 'sig' };
const publicKeys = jose.createLocalJWKSet({
  keys: [esJwk, rsJwk].map(({ d, p, q, dp, dq, qi, ...pub }) => pub),
});

// Actor keys registered with the AS (obo mode, optional): ACTOR_KEYS_DIR holds <actor>.pub.pem
// (SPKI, ES256). An actor may then present an assertion it signed itself (iss = sub = actor id,
// aud = the issuer) as actor_token, besides the AS-issued client_credentials JWT.
const actorKeys = new Map();
if (OBO && process.env.ACTOR_KEYS_DIR) {
  const { readFile } = await import('node:fs/promises');
  for (const id of Object.keys(ACTORS)) {
    try {
      const pem = await readFile(`${process.env.ACTOR_KEYS_DIR}/${id}.pub.pem`, 'utf8');
      actorKeys.set(id, await jose.importSPKI(pem, 'ES256'));
    } catch (e) {
      if (e.code !== 'ENOENT') throw e;
    }
  }
}

// OBO bindings kept by the middlewares below (in memory, like the provider's dev adapter).
const actorByCode = new Map(); // authorization code -> requested_actor consented to
const actorByRefresh = new Map(); // refresh token -> actor of the grant it continues
const actorsByGrant = new Map(); // grantId -> Set of actors the user consented to

const isActorClient = (client) => client && Object.hasOwn(ACTORS, client.clientId);

// Consent prompt: the stock checks, plus (obo) "this actor has not been consented to".
const policy = interactionPolicy.base();
if (OBO) {
  policy.get('consent').checks.add(new interactionPolicy.Check(
    'obo_actor_not_consented',
    'the requested actor has not been consented to',
    'consent_required',
    (ctx) => {
      const actor = ctx.oidc.params.requested_actor;
      if (!actor) return false;
      const grantId = ctx.oidc.session?.grantIdFor(ctx.oidc.client.clientId);
      return !(grantId && actorsByGrant.get(grantId)?.has(actor));
    },
  ));
}

const configuration = {
  clients,
  jwks: { keys: [esJwk, rsJwk] },
  cookies: { keys: ['interop-cookie-key-not-secret'] },
  findAccount: async (_ctx, id) => ({ accountId: id, claims: async () => ({ sub: id }) }),
  scopes: ['openid', 'offline_access'],
  pkce: { required: () => true },
  interactions: {
    policy,
    url: (_ctx, interaction) => (URLS === 'split'
      ? `/interaction/${interaction.uid}/${interaction.prompt.name}`
      : `/interaction/${interaction.uid}`),
  },
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    introspection: { enabled: true },
    revocation: { enabled: true },
    resourceIndicators: {
      enabled: true,
      // Actors' client_credentials tokens are addressed to the AS itself (they are actor tokens);
      // everything else to the demo resource server.
      defaultResource: (ctx, client) => (isActorClient(client) ? ISSUER : RESOURCE),
      useGrantedResource: () => true,
      getResourceServerInfo: (_ctx, indicator, client) => {
        if (indicator === ISSUER && isActorClient(client)) {
          return { scope: '', audience: ISSUER, accessTokenTTL: 300, accessTokenFormat: 'jwt', jwt: { sign: { alg: 'ES256' } } };
        }
        if (indicator === RESOURCE) {
          return { scope: RS_SCOPES, audience: RESOURCE, accessTokenTTL: 3600, accessTokenFormat: 'jwt', jwt: { sign: { alg: 'ES256' } } };
        }
        throw new errors.InvalidTarget();
      },
    },
  },
  issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
  ttl: { AuthorizationCode: 60, AccessToken: 3600, ClientCredentials: 300 },
};

if (OBO) {
  // Draft §4.1.2 step 2: requested_actor must name a recognised actor.
  configuration.extraParams = {
    requested_actor(_ctx, value) {
      if (value !== undefined && !Object.hasOwn(ACTORS, value)) {
        throw new errors.InvalidRequest('requested_actor is not a recognised actor');
      }
    },
  };
  // Draft §4.3: the access token names the actor in `act`.
  configuration.extraTokenClaims = async (ctx, token) => {
    if (token.kind !== 'AccessToken' || !ctx?.oidc) return undefined;
    const body = ctx.oidc.body ?? {};
    const actor = body.grant_type === 'refresh_token'
      ? actorByRefresh.get(body.refresh_token)
      : actorByCode.get(body.code);
    return actor ? { act: { sub: actor } } : undefined;
  };
}

const provider = new Provider(ISSUER, configuration);
provider.proxy = false;

// --- token endpoint middleware (obo) -------------------------------------------------------

function tokenError(ctx, status, error, description) {
  ctx.status = status;
  ctx.set('Cache-Control', 'no-store');
  ctx.type = 'application/json';
  ctx.body = { error, error_description: description };
}

// Draft §4.2.1/§4.2.2: the actor token is a JWT this AS issued to the actor (client_credentials),
// unexpired, with `sub` naming the actor bound to the code. Returns an error text or null.
async function checkActorToken(token, actor) {
  let issuer;
  try {
    issuer = jose.decodeJwt(token).iss;
  } catch {
    return 'actor_token is not a JWT';
  }
  // Either the AS's own client_credentials token, or an assertion signed by a registered actor key.
  const selfSigned = typeof issuer === 'string' && actorKeys.has(issuer);
  let payload;
  try {
    ({ payload } = await jose.jwtVerify(token, selfSigned ? actorKeys.get(issuer) : publicKeys, {
      issuer: selfSigned ? issuer : ISSUER,
      audience: ISSUER,
      algorithms: ['ES256'],
      requiredClaims: ['sub', 'exp'],
      clockTolerance: 60,
    }));
  } catch (e) {
    return `actor_token is not valid (${e.code ?? 'invalid'})`;
  }
  if (selfSigned ? payload.sub !== issuer : (payload.client_id !== payload.sub || !Object.hasOwn(ACTORS, payload.sub))) {
    return 'actor_token was not issued to an actor';
  }
  if (payload.act !== undefined) return 'actor_token must not itself carry act';
  if (payload.sub !== actor) return 'actor_token sub does not match the requested_actor of the code';
  return null;
}

if (OBO) {
  provider.use(async (ctx, next) => {
    if (ctx.method !== 'POST' || ctx.path !== '/token' || !ctx.is('application/x-www-form-urlencoded')) {
      return next();
    }
    // Read the body once and hand it to the provider as already parsed input (the provider's
    // documented fallback for an upstream body parser: req.body).
    const chunks = [];
    let size = 0;
    for await (const c of ctx.req) {
      size += c.length;
      if (size > 1 << 20) return tokenError(ctx, 413, 'invalid_request', 'request body too large');
      chunks.push(c);
    }
    const raw = Buffer.concat(chunks).toString('utf8');
    ctx.req.body = raw;
    const body = querystring.parse(raw);
    if (body.grant_type === 'authorization_code' && typeof body.code === 'string') {
      const actor = actorByCode.get(body.code);
      if (actor) {
        if (Array.isArray(body.actor_token)) return tokenError(ctx, 400, 'invalid_request', 'actor_token repeated');
        // A missing required parameter is invalid_request (RFC 6749 §5.2); a bad token invalid_grant.
        if (!body.actor_token) return tokenError(ctx, 400, 'invalid_request', 'actor_token is required for a code issued for requested_actor');
        const problem = await checkActorToken(body.actor_token, actor);
        if (problem) return tokenError(ctx, 400, 'invalid_grant', problem);
      } else if (body.actor_token !== undefined) {
        // A code issued without requested_actor has no actor to bind: refuse rather than
        // silently issue a token without `act` (AMB reading: refusal).
        return tokenError(ctx, 400, 'invalid_request', 'actor_token given for a code issued without requested_actor');
      }
    }
    await next();
    // AMB-26: a code whose redemption failed after the client was authenticated (wrong
    // code_verifier, redirect_uri...) is burnt, so a second try cannot succeed.
    if (body.grant_type === 'authorization_code' && typeof body.code === 'string'
        && ctx.status >= 400 && ctx.oidc?.client) {
      const code = await provider.AuthorizationCode.find(body.code, { ignoreExpiration: true }).catch(() => undefined);
      if (code && code.clientId === ctx.oidc.client.clientId) await code.destroy();
    }
    // Keep the actor with the refresh token so refreshed access tokens carry the same act.
    if (ctx.status === 200 && ctx.body && typeof ctx.body === 'object' && ctx.body.refresh_token) {
      const actor = body.grant_type === 'refresh_token'
        ? actorByRefresh.get(body.refresh_token)
        : actorByCode.get(body.code);
      if (actor) actorByRefresh.set(ctx.body.refresh_token, actor);
    }
    return undefined;
  });

  // After authorization (first pass or resume): bind the issued code to the requested_actor.
  provider.use(async (ctx, next) => {
    await next();
    const actor = ctx.oidc?.params?.requested_actor;
    const location = ctx.response.get('Location');
    if (!actor || !location || !['authorization', 'resume'].includes(ctx.oidc?.route)) return;
    try {
      const code = new URL(location).searchParams.get('code');
      if (code) actorByCode.set(code, actor);
    } catch { /* not an absolute redirect: no code */ }
  });
}

// --- interaction UI (login and consent) ----------------------------------------------------

const esc = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function page(res, title, body, status = 200) {
  res.writeHead(status, {
    'Content-Type': 'text/html; charset=utf-8',
    'Cache-Control': 'no-store',
    'X-Frame-Options': 'DENY',
    'Content-Security-Policy': "frame-ancestors 'none'",
  });
  res.end(`<!doctype html><html><head><title>${esc(title)}</title></head><body>${body}</body></html>`);
}

function loginPage(res, action, client, error) {
  page(res, 'Sign in', `<h1>Sign in</h1>
<p>to continue to ${esc(client?.clientName ?? client?.clientId)}</p>
${error ? `<p class="error">${esc(error)}</p>` : ''}
<form id="login" method="post" action="${esc(action)}">
<label>Username <input name="username" autocomplete="username"></label>
<label>Password <input name="password" type="password" autocomplete="current-password"></label>
<button type="submit">Sign in</button>
</form>`);
}

function consentPage(res, action, client, params) {
  const actor = params.requested_actor;
  const actorLine = actor
    ? `<p>The agent <strong>${esc(ACTORS[actor]?.name ?? actor)}</strong> (<code>${esc(actor)}</code>) will act on your behalf.</p>`
    : '';
  page(res, 'Authorize', `<h1>Authorize</h1>
<p>The application <strong>${esc(client?.clientName ?? client?.clientId)}</strong> (<code>${esc(client?.clientId)}</code>) asks for access.</p>
${actorLine}
<p>Scopes: <code>${esc(params.scope ?? '')}</code></p>
<form id="consent" method="post" action="${esc(action)}">
<button type="submit" name="decision" value="approve">Approve</button>
<button type="submit" name="decision" value="deny">Deny</button>
</form>`);
}

async function readForm(req) {
  const chunks = [];
  let size = 0;
  for await (const c of req) {
    size += c.length;
    if (size > 65536) throw new Error('form too large');
    chunks.push(c);
  }
  return querystring.parse(Buffer.concat(chunks).toString('utf8'));
}

// Both pages post back to the URL they were served from: the provider scopes its interaction
// cookie to that path.
async function interaction(req, res, uid, path) {
  let details;
  try {
    details = await provider.interactionDetails(req, res);
  } catch (e) {
    return page(res, 'Error', `<p>${esc(e.error_description ?? e.message)}</p>`, 400);
  }
  if (details.uid !== uid) return page(res, 'Error', '<p>interaction mismatch</p>', 400);
  const client = await provider.Client.find(details.params.client_id);
  const { prompt } = details;

  if (req.method === 'GET') {
    if (prompt.name === 'login') return loginPage(res, path, client);
    if (prompt.name === 'consent') return consentPage(res, path, client, details.params);
    return page(res, 'Error', `<p>unknown prompt ${esc(prompt.name)}</p>`, 400);
  }

  const form = await readForm(req);
  if (prompt.name === 'login' && form.username !== undefined) {
    const user = USERS[form.username];
    if (!user || user.password !== form.password) return loginPage(res, path, client, 'Wrong username or password.');
    return provider.interactionFinished(req, res, { login: { accountId: user.sub } }, { mergeWithLastSubmission: false });
  }
  if (prompt.name === 'consent' && form.decision !== undefined) {
    if (form.decision !== 'approve') {
      return provider.interactionFinished(req, res, {
        error: 'access_denied',
        error_description: 'the user denied the request',
      }, { mergeWithLastSubmission: false });
    }
    const { details: missing } = prompt;
    let grant;
    if (details.grantId) {
      grant = await provider.Grant.find(details.grantId);
    } else {
      grant = new provider.Grant({ accountId: details.session.accountId, clientId: details.params.client_id });
    }
    if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
    if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
    if (missing.missingResourceScopes) {
      for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes)) {
        grant.addResourceScope(indicator, scopes.join(' '));
      }
    }
    const grantId = await grant.save();
    if (details.params.requested_actor) {
      if (!actorsByGrant.has(grantId)) actorsByGrant.set(grantId, new Set());
      actorsByGrant.get(grantId).add(details.params.requested_actor);
    }
    const consent = details.grantId ? {} : { grantId };
    return provider.interactionFinished(req, res, { consent }, { mergeWithLastSubmission: true });
  }
  return page(res, 'Error', '<p>this form does not belong to the current step</p>', 400);
}

// --- resource server ---------------------------------------------------------------------

function rsError(res, status, error, extra = '') {
  const challenge = `Bearer realm="oidc-provider-interop"${error ? `, error="${error}"` : ''}${extra}`;
  res.writeHead(status, { 'WWW-Authenticate': challenge, 'Content-Type': 'application/json', 'Cache-Control': 'no-store' });
  res.end(JSON.stringify(error ? { error } : {}));
}

async function resource(req, res, need, actor) {
  const auth = req.headers.authorization ?? '';
  const m = /^Bearer ([A-Za-z0-9\-._~+/]+=*)$/i.exec(auth);
  if (!auth) return rsError(res, 401, null);
  if (!m) return rsError(res, 400, 'invalid_request');
  let payload;
  let header;
  try {
    ({ payload, protectedHeader: header } = await jose.jwtVerify(m[1], publicKeys, {
      issuer: ISSUER, audience: RESOURCE, algorithms: ['ES256'], typ: 'at+jwt',
    }));
  } catch {
    return rsError(res, 401, 'invalid_token');
  }
  void header;
  // The provider's JWT access tokens are self-contained: it can neither introspect nor revoke
  // them (400 unsupported_token_type), so signature, iss, aud, typ and exp are the whole check.
  const scopes = new Set(String(payload.scope ?? '').split(' '));
  if (!scopes.has(need)) return rsError(res, 403, 'insufficient_scope', `, scope="${need}"`);
  if (actor !== undefined && payload.act?.sub !== actor) {
    return rsError(res, 403, 'insufficient_scope', `, error_description="this resource needs act.sub=${actor}"`);
  }
  res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' });
  res.end(JSON.stringify({ ok: true, sub: payload.sub, act: payload.act ?? null }));
}

// --- HTTP routing ----------------------------------------------------------------------------

const callback = provider.callback();
const server = createServer(async (req, res) => {
  const path = new URL(req.url, ISSUER).pathname;
  try {
    let m = /^\/interaction\/([A-Za-z0-9_-]+)(?:\/(login|consent))?$/.exec(path);
    if (m) {
      if (req.method === 'GET' || req.method === 'POST') return await interaction(req, res, m[1], path);
      return page(res, 'Error', '<p>method not allowed</p>', 405);
    }
    if (req.method === 'GET' && path === '/resource') return await resource(req, res, 'files.read');
    if (req.method === 'GET' && path === '/resource/write') return await resource(req, res, 'files.write');
    m = /^\/resource\/actor\/([^/]+)$/.exec(path);
    if (req.method === 'GET' && m) return await resource(req, res, 'files.read', decodeURIComponent(m[1]));
    return callback(req, res);
  } catch (e) {
    process.stderr.write(`${req.method} ${path}: ${e.stack}\n${e.error_description ?? ''}\n`);
    if (!res.headersSent) page(res, 'Error', `<p>${esc(e.error_description ?? e.message)}</p>`, e.statusCode ?? 500);
    else res.end();
  }
});

server.listen(PORT, '127.0.0.1', () => {
  process.stdout.write(`${ISSUER}\n`);
  process.stderr.write(`oidc-provider interop target: mode=${MODE} interaction_urls=${URLS}\n`);
});
