// A real OpenID Connect provider for Escale's sign-in tests: panva's
// oidc-provider (OpenID Certified), configured only through environment
// variables by tests/support/oidc_provider.py. Never for production.
//
//   OIDC_PORT              loopback port to listen on (the issuer is http://127.0.0.1:PORT)
//   OIDC_CLIENTS           JSON array of client metadata (client_id, client_secret, redirect_uris...)
//   OIDC_USERS             JSON object: login -> claims (email, name, groups...); any password
//   OIDC_STRICT_CLIENTS    comma-separated client ids that, like ProConnect, refuse unknown
//                          authorisation parameters (PKCE's code_challenge) and need no PKCE
//   OIDC_CLOCK_OFFSET      seconds added to the provider's clock (a provider whose clock is wrong)
//   OIDC_ID_TOKEN_TTL      lifetime of ID tokens in seconds (default 3600)

import { generateKeyPairSync } from 'node:crypto';

const offset = Number(process.env.OIDC_CLOCK_OFFSET || '0') * 1000;
if (offset) {
  const realNow = Date.now.bind(Date);
  Date.now = () => realNow() + offset;
}

const { default: Provider } = await import('oidc-provider');

const port = Number(process.env.OIDC_PORT);
const issuer = `http://127.0.0.1:${port}`;
const clients = JSON.parse(process.env.OIDC_CLIENTS || '[]');
const users = JSON.parse(process.env.OIDC_USERS || '{}');
const strict = new Set((process.env.OIDC_STRICT_CLIENTS || '').split(',').filter(Boolean));

const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const signingKey = { ...privateKey.export({ format: 'jwk' }), kid: 'escale-test-1', use: 'sig', alg: 'RS256' };

const provider = new Provider(issuer, {
  clients,
  jwks: { keys: [signingKey] },
  cookies: { keys: ['escale-test-cookie-key-not-a-secret'] },
  scopes: ['openid', 'email', 'profile', 'groups'],
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name', 'given_name', 'family_name'],
    groups: ['groups'],
  },
  features: {
    devInteractions: { enabled: true },
    jwtUserinfo: { enabled: true },
    rpInitiatedLogout: { enabled: true },
  },
  ttl: { IdToken: Number(process.env.OIDC_ID_TOKEN_TTL || '3600') },
  pkce: { required: (ctx, client) => !strict.has(client.clientId) },
  async findAccount(ctx, id) {
    const claims = users[id];
    if (!claims) return undefined;
    return { accountId: id, async claims() { return { sub: id, ...claims }; } };
  },
});

// ProConnect refuses authorisation requests with parameters it does not know.
provider.use(async (ctx, next) => {
  if (ctx.path === '/auth' && strict.has(ctx.query.client_id)
      && (ctx.query.code_challenge || ctx.query.code_challenge_method)) {
    ctx.status = 400;
    ctx.body = { error: 'invalid_request', error_description: 'unknown parameter: code_challenge' };
    return;
  }
  await next();
});

provider.listen(port, '127.0.0.1', () => {
  console.log(JSON.stringify({ msg: 'oidc provider listening', issuer }));
});
