import { defineMessages } from '../errors.ts';

/** Messages of backups and restores (API answers, and the `backup` / `restore` commands). */
export const backupMessages = defineMessages({
  backup_in_progress: {
    type: 'conflict',
    en: 'A backup is running already ({running}); wait for it to finish.',
    'zh-CN': '已有备份正在进行（{running}），请等待其完成。',
  },
  backup_not_found: {
    type: 'not_found',
    en: 'There is no backup "{backup}": give a backup id from the backup directory, or the path of a backup file or its manifest.',
    'zh-CN': '找不到备份“{backup}”：请给出备份目录中的备份编号，或备份文件及其清单文件的路径。',
  },
  backup_manifest_invalid: {
    type: 'invalid_data',
    en: 'The file {file} is not a readable CineCard backup manifest: {reason}.',
    'zh-CN': '文件 {file} 不是可读取的 CineCard 备份清单：{reason}。',
  },
  backup_checksum_mismatch: {
    type: 'invalid_data',
    en: 'The backup {backup} is damaged: the SHA-256 of {file} is {actual}, its manifest says {expected}. It is not restored.',
    'zh-CN': '备份 {backup} 已损坏：{file} 的 SHA-256 为 {actual}，清单记载为 {expected}。不予恢复。',
  },
  backup_dialect_mismatch: {
    type: 'invalid_data',
    en: 'The backup {backup} holds a {backupDialect} database, but the configured database is {dialect}.',
    'zh-CN': '备份 {backup} 是 {backupDialect} 数据库的备份，而当前配置的数据库是 {dialect}。',
  },
  restore_needs_confirmation: {
    type: 'invalid_data',
    en: 'Restoring replaces every row of the database "{database}". Stop every central instance, then run the restore again with --overwrite {database}.',
    'zh-CN': '恢复将替换数据库“{database}”中的全部数据。请先停止所有中心服务实例，再加上 --overwrite {database} 重新执行恢复。',
  },
  backup_verification_failed: {
    type: 'internal',
    en: 'The backup {backup} did not verify: {detail}.',
    'zh-CN': '备份 {backup} 校验未通过：{detail}。',
  },
  backup_tool_missing: {
    type: 'unavailable',
    en: 'The program {tool} was not found ({reason}); install the PostgreSQL client tools (the server’s version or newer) or set backup.postgresBinDir.',
    'zh-CN': '找不到程序 {tool}（{reason}）；请安装 PostgreSQL 客户端工具（与服务器同版本或更新），或设置 backup.postgresBinDir。',
  },
  backup_tool_failed: {
    type: 'internal',
    en: '{tool} failed (exit {status}): {detail}',
    'zh-CN': '{tool} 执行失败（退出码 {status}）：{detail}',
  },
  backup_directory_unusable: {
    type: 'unavailable',
    en: 'The backup directory {path} cannot be used: {reason}. Check backup.directory and its permissions.',
    'zh-CN': '无法使用备份目录 {path}：{reason}。请检查 backup.directory 及其权限。',
  },
  backup_locked: {
    type: 'conflict',
    en: 'Another process holds the backup lock {lock} (process {pid}); wait for its backup to finish.',
    'zh-CN': '另一个进程（{pid}）持有备份锁 {lock}，请等待其备份完成。',
  },
});
