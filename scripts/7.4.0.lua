-- Nightingale v7.4.0: a host may belong to several business groups.
-- Upstream: migrate.sql chunk /* v7.4.0 2024-09-20 */ (CREATE TABLE
-- target_busi_group; the earlier chunk labelled "v7.4.0 2024-08-28" shipped
-- in v7.3.2 and only re-adds target.host_tags, see 7.3.0) and gorm
-- AutoMigrate of models.TargetBusiGroup (uniqueIndex:idx_target_group on
-- target_ident + group_id).  Definitions: v7.7.2 MySQL a-n9e.sql (first in
-- the v7.5.0 file), v8.0.0 PostgreSQL file, v8.0.0 SQLite file with the
-- model's index name idx_target_group (that file says idx_target_busi_group;
-- gorm looks the index up by the model's name).
--
-- Data: Nightingale's models.MigrateBg (run at start while
-- target_busi_group is empty) moves every host's group_id into
-- target_busi_group, sets group_id to 0 and adds the group's label tag
-- (`busigroup=<label_value>`, pushgw BusiGroupLabelKey's default) when the
-- group has label_enable = 1.  Here that is the convert step
-- (migrate.n9e_data.busi_groups: batched, resumable) and its verify, which
-- compares row counts and checksums taken before the conversion.
local ddl = require("migrate.ddl")
local n9e_data = require("migrate.n9e_data")

-- taken by convert in this run; a later standalone `verify` checks the
-- schema only (Nightingale keeps editing these rows)
local before

local TARGET_BUSI_GROUP = {
  mysql = [[
CREATE TABLE `target_busi_group` (
  `id` bigint NOT NULL AUTO_INCREMENT,
  `target_ident` varchar(191) NOT NULL,
  `group_id` bigint NOT NULL,
  `update_at` bigint NOT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `idx_target_group` (`target_ident`,`group_id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4]],
  postgres = [[
CREATE TABLE target_busi_group (
    id BIGSERIAL PRIMARY KEY,
    target_ident varchar(191) NOT NULL,
    group_id bigint NOT NULL,
    update_at bigint NOT NULL
);
CREATE UNIQUE INDEX idx_target_group ON target_busi_group (target_ident, group_id)]],
  sqlite = [[
CREATE TABLE `target_busi_group` (
    `id` integer primary key autoincrement,
    `target_ident` varchar(191) not null,
    `group_id` integer not null,
    `update_at` integer not null
);
CREATE UNIQUE INDEX idx_target_group ON target_busi_group (target_ident, group_id)]],
}

return {
  version = "7.4.0",
  description = "target_busi_group table (hosts in several business groups)",

  up = function(db)
    ddl.create_table(db, "target_busi_group", TARGET_BUSI_GROUP)
    ddl.add_index(db, "target_busi_group", "idx_target_group", { "target_ident", "group_id" }, { unique = true })
  end,

  convert = function(db, ctx)
    before = n9e_data.busi_groups_snapshot(db)
    local r = n9e_data.busi_groups(db)
    ctx.log.info(("target.group_id -> target_busi_group: %d host(s) moved, %d tagged, %d association(s) added")
      :format(r.moved, r.tagged, r.associated))
  end,

  verify = function(db)
    ddl.expect(db, { target_busi_group = {
      columns = { id = true, target_ident = "varchar(191)", group_id = true, update_at = true },
      indexes = { idx_target_group = { "target_ident", "group_id" } } } })
    if before then n9e_data.verify_busi_groups(db, before) end
  end,

  down = function(db)
    if db:table_exists("target_busi_group") then db:exec("DROP TABLE target_busi_group") end
  end,
}
