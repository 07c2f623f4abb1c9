-- API tokens may expire: a token past its expires_at is refused (TOKEN_EXPIRED) but stays listed, like a
-- revoked one. Null means it never expires (every token created before this migration).
alter table api_tokens add column expires_at timestamptz;
