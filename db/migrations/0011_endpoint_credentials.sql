-- Credentials that outlive a migration: an endpoint may mint its access tokens itself, from a Google service
-- account with domain-wide delegation (the key JSON sealed in admin_secret) or from Microsoft 365 OAuth client
-- credentials or a refresh token (the client secret or refresh token sealed in admin_secret). The tenant and
-- client id are not secret; the authority host is null for Microsoft's own (https://login.microsoftonline.com).
alter table endpoints drop constraint endpoints_auth_method_check;
alter table endpoints add constraint endpoints_auth_method_check check (
  auth_method in ('plain', 'login', 'xoauth2', 'google-service-account', 'm365-client-credentials', 'm365-refresh-token')
);
alter table endpoints add column oauth_tenant_id text, add column oauth_client_id text, add column oauth_authority text;
