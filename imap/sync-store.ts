import type { Pool, PoolClient } from 'pg';

/**
 * PostgreSQL state of one mailbox's sync: folder checkpoints, the source -> destination message map, append
 * intents and skipped items (tables of 0001_init.sql and 0002_imap_sync.sql). One instance per mailbox sync.
 */

export interface FolderCheckpoint {
  sourceFolder: string;
  destinationFolder: string;
  uidvalidity: number;
  lastUid: number;
  highestModseq: bigint | null;
  destinationUidvalidity: number | null;
  sourceUidnext: number | null;
  sourceMessages: number | null;
  completedAt: Date | null;
}

export interface AppendIntent {
  sourceFolder: string;
  sourceUidvalidity: number;
  destinationFolder: string;
  destinationUidvalidity: number;
  destinationUidnext: number;
  sourceUids: number[];
  sha256s: string[];
  sizes: number[];
}

export interface MappedMessage {
  sourceUid: number;
  destinationUid: number | null;
  sha256: string | null;
  state: 'copied' | 'skipped' | 'linked';
}

export interface CopiedRecord {
  sourceUid: number;
  destinationUid: number | null;
  sha256: string;
  size: number;
  /** 'linked': not appended, because the same message was copied from another folder (Gmail's All Mail). */
  state?: 'copied' | 'linked';
}

export interface SkippedRecord {
  sourceUid: number;
  kind: 'bad' | 'large';
  internalDate: Date | null;
  subject: string | null;
  size: number;
  reason: string;
  sha256?: string | null;
}

/** Which folder pair a map row or an intent belongs to, with both sides' UIDVALIDITY. */
export interface FolderKey {
  sourceFolder: string;
  sourceUidvalidity: number;
  destinationFolder: string;
  destinationUidvalidity: number;
}

interface CheckpointRow {
  source_folder: string;
  destination_folder: string;
  uidvalidity: string;
  last_uid: string;
  highest_modseq: string | null;
  destination_uidvalidity: string | null;
  source_uidnext: string | null;
  source_messages: string | null;
  completed_at: Date | null;
}

const num = (v: string | null): number | null => (v === null ? null : Number(v));

export class SyncStore {
  constructor(
    private readonly pool: Pool,
    readonly mailboxId: string,
  ) {}

  async checkpoints(): Promise<Map<string, FolderCheckpoint>> {
    const { rows } = await this.pool.query<CheckpointRow>(
      `select source_folder, destination_folder, uidvalidity, last_uid, highest_modseq, destination_uidvalidity,
              source_uidnext, source_messages, completed_at
         from folder_checkpoints where mailbox_id = $1`,
      [this.mailboxId],
    );
    return new Map(
      rows.map((r) => [
        r.source_folder,
        {
          sourceFolder: r.source_folder,
          destinationFolder: r.destination_folder,
          uidvalidity: Number(r.uidvalidity),
          lastUid: Number(r.last_uid),
          highestModseq: r.highest_modseq === null ? null : BigInt(r.highest_modseq),
          destinationUidvalidity: num(r.destination_uidvalidity),
          sourceUidnext: num(r.source_uidnext),
          sourceMessages: num(r.source_messages),
          completedAt: r.completed_at,
        },
      ]),
    );
  }

  /** Creates or resets a folder's checkpoint (new folder, or UIDVALIDITY changed on either side). */
  async resetCheckpoint(cp: {
    sourceFolder: string;
    destinationFolder: string;
    uidvalidity: number;
    destinationUidvalidity: number;
    subscribed: boolean;
    specialUse: string | null;
  }): Promise<void> {
    await this.pool.query(
      `insert into folder_checkpoints (mailbox_id, source_folder, destination_folder, uidvalidity, last_uid, highest_modseq,
                                       destination_uidvalidity, subscribed, special_use, updated_at)
       values ($1, $2, $3, $4, 0, null, $5, $6, $7, now())
       on conflict (mailbox_id, source_folder) do update
         set destination_folder = excluded.destination_folder, uidvalidity = excluded.uidvalidity, last_uid = 0,
             highest_modseq = null, destination_uidvalidity = excluded.destination_uidvalidity,
             source_uidnext = null, source_messages = null, subscribed = excluded.subscribed,
             special_use = excluded.special_use, completed_at = null, updated_at = now()`,
      [
        this.mailboxId,
        cp.sourceFolder,
        cp.destinationFolder,
        cp.uidvalidity,
        cp.destinationUidvalidity,
        cp.subscribed,
        cp.specialUse,
      ],
    );
  }

  /** Marks a folder done for this pass: what the source looked like when it was read. */
  async completeFolder(
    sourceFolder: string,
    state: { highestModseq: bigint | null; sourceUidnext: number; sourceMessages: number; lastUid: number },
  ): Promise<void> {
    await this.pool.query(
      `update folder_checkpoints
          set highest_modseq = $3, source_uidnext = $4, source_messages = $5, last_uid = greatest(last_uid, $6),
              completed_at = now(), updated_at = now()
        where mailbox_id = $1 and source_folder = $2`,
      [
        this.mailboxId,
        sourceFolder,
        state.highestModseq === null ? null : state.highestModseq.toString(),
        state.sourceUidnext,
        state.sourceMessages,
        state.lastUid,
      ],
    );
  }

  /** Messages of a folder already handled with UID above `aboveUid` (all of them with 0). */
  async mapped(sourceFolder: string, uidvalidity: number, aboveUid = 0): Promise<Map<number, MappedMessage>> {
    const { rows } = await this.pool.query<{
      source_uid: string;
      destination_uid: string | null;
      sha256: string | null;
      state: MappedMessage['state'];
    }>(
      `select source_uid, destination_uid, sha256, state from message_map
        where mailbox_id = $1 and source_folder = $2 and source_uidvalidity = $3 and source_uid > $4`,
      [this.mailboxId, sourceFolder, uidvalidity, aboveUid],
    );
    return new Map(
      rows.map((r) => [
        Number(r.source_uid),
        { sourceUid: Number(r.source_uid), destinationUid: num(r.destination_uid), sha256: r.sha256, state: r.state },
      ]),
    );
  }

  /** The append intents a crashed sync left for a folder (oldest batch first). */
  /** The map entries of these source UIDs. */
  async mappedUids(sourceFolder: string, uidvalidity: number, uids: number[]): Promise<Map<number, MappedMessage>> {
    const { rows } = await this.pool.query<{
      source_uid: string;
      destination_uid: string | null;
      sha256: string | null;
      state: MappedMessage['state'];
    }>(
      `select source_uid, destination_uid, sha256, state from message_map
        where mailbox_id = $1 and source_folder = $2 and source_uidvalidity = $3 and source_uid = any($4::bigint[])`,
      [this.mailboxId, sourceFolder, uidvalidity, uids],
    );
    return new Map(
      rows.map((r) => [
        Number(r.source_uid),
        { sourceUid: Number(r.source_uid), destinationUid: num(r.destination_uid), sha256: r.sha256, state: r.state },
      ]),
    );
  }

  async intents(sourceFolder: string): Promise<AppendIntent[]> {
    const { rows } = await this.pool.query<{
      source_uidvalidity: string;
      destination_folder: string;
      destination_uidvalidity: string;
      destination_uidnext: string;
      source_uids: string[];
      sha256s: string[];
      sizes: string[];
    }>(
      `select source_uidvalidity, destination_folder, destination_uidvalidity, destination_uidnext, source_uids, sha256s, sizes
         from append_intents where mailbox_id = $1 and source_folder = $2 order by first_source_uid`,
      [this.mailboxId, sourceFolder],
    );
    return rows.map((r) => ({
      sourceFolder,
      sourceUidvalidity: Number(r.source_uidvalidity),
      destinationFolder: r.destination_folder,
      destinationUidvalidity: Number(r.destination_uidvalidity),
      destinationUidnext: Number(r.destination_uidnext),
      sourceUids: r.source_uids.map(Number),
      sha256s: r.sha256s,
      sizes: r.sizes.map(Number),
    }));
  }

  /** Destination UIDs already recorded for a folder (not candidates when a crashed append is recovered). */
  async mappedDestinationUids(
    sourceFolder: string,
    destinationUidvalidity: number,
    fromUid: number,
  ): Promise<Set<number>> {
    const { rows } = await this.pool.query<{ destination_uid: string }>(
      `select destination_uid from message_map
        where mailbox_id = $1 and source_folder = $2 and destination_uidvalidity = $3 and destination_uid >= $4`,
      [this.mailboxId, sourceFolder, destinationUidvalidity, fromUid],
    );
    return new Set(rows.map((r) => Number(r.destination_uid)));
  }

  /** Folders with an append in flight (a crashed sync). */
  async intentFolders(): Promise<Set<string>> {
    const { rows } = await this.pool.query<{ source_folder: string }>(
      'select source_folder from append_intents where mailbox_id = $1',
      [this.mailboxId],
    );
    return new Set(rows.map((r) => r.source_folder));
  }

  async writeIntent(intent: AppendIntent): Promise<void> {
    await this.pool.query(
      `insert into append_intents (mailbox_id, source_folder, source_uidvalidity, destination_folder, destination_uidvalidity,
                                   destination_uidnext, source_uids, sha256s, sizes, first_source_uid)
       values ($1, $2, $3, $4, $5, $6, $7::bigint[], $8::text[], $9::bigint[], coalesce(($7::bigint[])[1], 0))
       on conflict (mailbox_id, source_folder, first_source_uid) do update
         set source_uidvalidity = excluded.source_uidvalidity, destination_folder = excluded.destination_folder,
             destination_uidvalidity = excluded.destination_uidvalidity, destination_uidnext = excluded.destination_uidnext,
             source_uids = excluded.source_uids, sha256s = excluded.sha256s, sizes = excluded.sizes, created_at = now()`,
      [
        this.mailboxId,
        intent.sourceFolder,
        intent.sourceUidvalidity,
        intent.destinationFolder,
        intent.destinationUidvalidity,
        intent.destinationUidnext,
        intent.sourceUids,
        intent.sha256s,
        intent.sizes,
      ],
    );
  }

  /** Drops every intent of a folder (all recovered, or made meaningless by a UIDVALIDITY change). */
  async dropIntents(sourceFolder: string): Promise<void> {
    await this.pool.query('delete from append_intents where mailbox_id = $1 and source_folder = $2', [
      this.mailboxId,
      sourceFolder,
    ]);
  }

  /**
   * Records copied and skipped messages of one folder, advances its checkpoint to `lastUid` and drops the
   * batch's append intent (`intentUid`: the first source UID of the batch; null for none), atomically: after a
   * crash either all of it happened or the intent is still there to be recovered.
   */
  async record(
    folder: {
      sourceFolder: string;
      sourceUidvalidity: number;
      destinationFolder: string;
      destinationUidvalidity: number;
    },
    copied: CopiedRecord[],
    skipped: SkippedRecord[],
    lastUid: number | null,
    intentUid: number | null = null,
  ): Promise<void> {
    if (!skipped.length) {
      // The common case in one statement (one round trip, atomic like a transaction).
      await this.pool.query(
        `with ins as (
           insert into message_map (mailbox_id, source_folder, source_uidvalidity, source_uid, destination_folder,
                                    destination_uidvalidity, destination_uid, sha256, size_bytes, state)
           select $1, $2, $3, u.source_uid, $4, $5, u.destination_uid, nullif(u.sha256, ''), u.size_bytes, u.state
             from unnest($6::bigint[], $7::bigint[], $8::text[], $9::bigint[], $12::text[]) as u(source_uid, destination_uid, sha256, size_bytes, state)
           on conflict (mailbox_id, source_folder, source_uidvalidity, source_uid) do update
             set destination_uid = excluded.destination_uid, destination_uidvalidity = excluded.destination_uidvalidity,
                 destination_folder = excluded.destination_folder, sha256 = excluded.sha256, state = excluded.state
           returning 1),
         cp as (
           update folder_checkpoints set last_uid = greatest(last_uid, $10::bigint), updated_at = now()
            where mailbox_id = $1 and source_folder = $2 and $10::bigint is not null
           returning 1),
         del as (delete from append_intents where mailbox_id = $1 and source_folder = $2 and first_source_uid = $11::bigint returning 1)
         select (select count(*) from ins) as copied`,
        [
          this.mailboxId,
          folder.sourceFolder,
          folder.sourceUidvalidity,
          folder.destinationFolder,
          folder.destinationUidvalidity,
          copied.map((m) => m.sourceUid),
          copied.map((m) => m.destinationUid),
          copied.map((m) => m.sha256),
          copied.map((m) => m.size),
          lastUid,
          intentUid,
          copied.map((m) => m.state ?? 'copied'),
        ],
      );
      return;
    }
    await this.tx(async (c) => {
      if (copied.length) {
        await c.query(
          `insert into message_map (mailbox_id, source_folder, source_uidvalidity, source_uid, destination_folder,
                                    destination_uidvalidity, destination_uid, sha256, size_bytes, state)
           select $1, $2, $3, u.source_uid, $4, $5, u.destination_uid, nullif(u.sha256, ''), u.size_bytes, u.state
             from unnest($6::bigint[], $7::bigint[], $8::text[], $9::bigint[], $10::text[]) as u(source_uid, destination_uid, sha256, size_bytes, state)
           on conflict (mailbox_id, source_folder, source_uidvalidity, source_uid) do update
             set destination_uid = excluded.destination_uid, destination_uidvalidity = excluded.destination_uidvalidity,
                 destination_folder = excluded.destination_folder, sha256 = excluded.sha256, state = excluded.state`,
          [
            this.mailboxId,
            folder.sourceFolder,
            folder.sourceUidvalidity,
            folder.destinationFolder,
            folder.destinationUidvalidity,
            copied.map((m) => m.sourceUid),
            copied.map((m) => m.destinationUid),
            copied.map((m) => m.sha256),
            copied.map((m) => m.size),
            copied.map((m) => m.state ?? 'copied'),
          ],
        );
      }
      for (const s of skipped) {
        const inserted = await c.query(
          `insert into message_map (mailbox_id, source_folder, source_uidvalidity, source_uid, destination_folder, sha256, size_bytes, state)
           values ($1, $2, $3, $4, $5, $6, $7, 'skipped')
           on conflict do nothing`,
          [
            this.mailboxId,
            folder.sourceFolder,
            folder.sourceUidvalidity,
            s.sourceUid,
            folder.destinationFolder,
            s.sha256 || null,
            s.size,
          ],
        );
        if (inserted.rowCount) {
          await c.query(
            `insert into skipped_items (mailbox_id, folder, source_uid, internal_date, subject, size_bytes, reason, kind)
             values ($1, $2, $3, $4, $5, $6, $7, $8)`,
            [this.mailboxId, folder.sourceFolder, s.sourceUid, s.internalDate, s.subject, s.size, s.reason, s.kind],
          );
        }
      }
      if (lastUid !== null) {
        await c.query(
          `update folder_checkpoints set last_uid = greatest(last_uid, $3), updated_at = now()
            where mailbox_id = $1 and source_folder = $2`,
          [this.mailboxId, folder.sourceFolder, lastUid],
        );
      }
      if (intentUid !== null) {
        await c.query(
          'delete from append_intents where mailbox_id = $1 and source_folder = $2 and first_source_uid = $3',
          [this.mailboxId, folder.sourceFolder, intentUid],
        );
      }
    });
  }

  /** Replaces a folder's map after a UIDVALIDITY change was reconciled by content. */
  async replaceMap(
    folder: {
      sourceFolder: string;
      sourceUidvalidity: number;
      destinationFolder: string;
      destinationUidvalidity: number;
    },
    copied: CopiedRecord[],
  ): Promise<void> {
    await this.tx(async (c) => {
      await c.query('delete from message_map where mailbox_id = $1 and source_folder = $2', [
        this.mailboxId,
        folder.sourceFolder,
      ]);
      await c.query('delete from append_intents where mailbox_id = $1 and source_folder = $2', [
        this.mailboxId,
        folder.sourceFolder,
      ]);
    });
    await this.record(folder, copied, [], null);
  }

  async forget(sourceFolder: string, uidvalidity: number, sourceUids: number[]): Promise<void> {
    await this.pool.query(
      `delete from message_map where mailbox_id = $1 and source_folder = $2 and source_uidvalidity = $3 and source_uid = any($4::bigint[])`,
      [this.mailboxId, sourceFolder, uidvalidity, sourceUids],
    );
  }

  /** Which of these contents were already copied into another folder of this mailbox (Gmail's labels). */
  async copiedElsewhere(sourceFolder: string, sha256s: string[]): Promise<Set<string>> {
    if (!sha256s.length) return new Set();
    const { rows } = await this.pool.query<{ sha256: string }>(
      `select distinct sha256 from message_map
        where mailbox_id = $1 and sha256 = any($2::text[]) and source_folder <> $3 and state = 'copied'`,
      [this.mailboxId, sha256s, sourceFolder],
    );
    return new Set(rows.map((r) => r.sha256));
  }

  async skippedCounts(): Promise<{ bad: number; large: number }> {
    const { rows } = await this.pool.query<{ bad: string; large: string }>(
      `select count(*) filter (where kind = 'bad') as bad, count(*) filter (where kind = 'large') as large
         from skipped_items where mailbox_id = $1`,
      [this.mailboxId],
    );
    return { bad: Number(rows[0]?.bad ?? 0), large: Number(rows[0]?.large ?? 0) };
  }

  /** Copied messages and their bytes over the whole mailbox (all passes). */
  async totals(): Promise<{ copied: number; bytes: number; skipped: number }> {
    const { rows } = await this.pool.query<{ copied: string; bytes: string; skipped: string }>(
      `select count(*) filter (where state = 'copied') as copied,
              coalesce(sum(size_bytes) filter (where state = 'copied'), 0) as bytes,
              count(*) filter (where state = 'skipped') as skipped
         from message_map where mailbox_id = $1`,
      [this.mailboxId],
    );
    return {
      copied: Number(rows[0]?.copied ?? 0),
      bytes: Number(rows[0]?.bytes ?? 0),
      skipped: Number(rows[0]?.skipped ?? 0),
    };
  }

  private async tx(fn: (c: PoolClient) => Promise<void>): Promise<void> {
    const c = await this.pool.connect();
    try {
      await c.query('begin');
      await fn(c);
      await c.query('commit');
    } catch (err) {
      await c.query('rollback').catch(() => undefined);
      throw err;
    } finally {
      c.release();
    }
  }
}
