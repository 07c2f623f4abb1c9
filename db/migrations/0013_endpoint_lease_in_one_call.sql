-- Taking an endpoint slot in one round trip. The lease was taken in a transaction of seven round trips under the
-- endpoints' advisory locks; on a busy worker each round trip waits for its event loop, so a sync held the locks
-- for up to a second while a hundred others queued behind them, and some waited past lock_timeout (10 s). In one
-- function the locks are held for the statements' own time, on the server. Each statement of a volatile function
-- sees what committed before it began, so the counts are read after the locks are granted.
create function try_endpoint_lease(endpoint_ids uuid[], lease_mailbox_id bigint, lease_kind text, lease_secs float8)
returns boolean
language plpgsql volatile
as $$
declare
  endpoint uuid;
begin
  -- One order for every sync, so two syncs on the same pair of endpoints cannot deadlock.
  foreach endpoint in array (select array_agg(distinct id order by id) from unnest(endpoint_ids) as id) loop
    perform pg_advisory_xact_lock(hashtext('mailferry-endpoint:' || endpoint::text));
  end loop;
  delete from endpoint_leases where endpoint_id = any(endpoint_ids) and expires_at < now();
  if exists (
    select 1 from endpoints e
     where e.id = any(endpoint_ids)
       and ((select count(*) from endpoint_leases l where l.endpoint_id = e.id and l.mailbox_id <> lease_mailbox_id)
              >= e.max_concurrent_migrations
         or (lease_kind = 'incremental' and
             (select count(*) from endpoint_leases l
               where l.endpoint_id = e.id and l.kind = 'incremental' and l.mailbox_id <> lease_mailbox_id)
              >= e.max_concurrent_incremental_syncs))
  ) then
    return false;
  end if;
  insert into endpoint_leases (endpoint_id, mailbox_id, kind, expires_at)
  select distinct unnest(endpoint_ids), lease_mailbox_id, lease_kind, now() + make_interval(secs => lease_secs)
  on conflict (endpoint_id, mailbox_id) do update set kind = excluded.kind, expires_at = excluded.expires_at;
  return true;
end
$$;
