import type { RequestHandler } from 'express';
import helmet from 'helmet';

/**
 * The dashboard's Content-Security-Policy: its build (dashboard/dist) is one module script and one stylesheet
 * from its own origin, with no inline script or style element; the favicon is a `data:` image. React's `style`
 * props go through the CSSOM, which `style-src` does not restrict. Nothing may frame the dashboard.
 */
export const CONTENT_SECURITY_POLICY = {
  'default-src': ["'self'"],
  'script-src': ["'self'"],
  'style-src': ["'self'"],
  'img-src': ["'self'", 'data:'],
  'connect-src': ["'self'"],
  'font-src': ["'self'"],
  'object-src': ["'none'"],
  'base-uri': ["'none'"],
  'form-action': ["'self'"],
  'frame-ancestors': ["'none'"],
} as const;

const HSTS_MAX_AGE_S = 365 * 24 * 3600;

/**
 * helmet's headers on every answer, and HSTS only on requests that came over HTTPS (`req.secure`: the API's own
 * TLS, or `X-Forwarded-Proto: https` from a proxy trusted by MAILFERRY_TRUST_PROXY). Sent over plain HTTP, HSTS
 * would be ignored at best, and on a host that also serves HTTPS elsewhere it would lock browsers out of this one.
 */
export function securityHeaders(): RequestHandler {
  const headers = helmet({
    contentSecurityPolicy: { useDefaults: false, directives: CONTENT_SECURITY_POLICY },
    strictTransportSecurity: false,
    xFrameOptions: { action: 'deny' },
    referrerPolicy: { policy: 'no-referrer' },
  });
  const hsts = helmet.strictTransportSecurity({ maxAge: HSTS_MAX_AGE_S });
  return (req, res, next) => {
    headers(req, res, (err?: unknown) => {
      if (err) return next(err);
      if (req.secure) hsts(req, res, next);
      else next();
    });
  };
}
