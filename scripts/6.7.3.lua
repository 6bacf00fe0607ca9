-- luacheck: no max line length, ignore 611 612 613 614
-- Nightingale v6.7.3 on MySQL/MariaDB and PostgreSQL: the baseline.
--
-- v6.7.3 (tag v6.7.3, commit 07c602660af1942d1c66f4f5d80d0e75a4df9929,
-- 2024-01-08) is the last v6 release and the oldest version this chain
-- knows on the server engines.  On an empty database this creates its full
-- schema and seed rows exactly as Nightingale ships them:
--   * MySQL/MariaDB: docker/initsql/a-n9e.sql of that tag, copied below
--     unchanged except its three database lines (`drop database if exists
--     n9e_v6; create database n9e_v6; use n9e_v6;`): the connection picks
--     the database, a migration never creates, drops or switches it.  The
--     ibex tables of v6 (docker/initsql/b-ibex.sql) live in a database of
--     their own and are not part of n9e's; v7.0.0 creates them in n9e's.
--   * PostgreSQL: docker/compose-postgres/initsql_for_postgres/
--     a-n9e-for-Postgres.sql followed by b-ibex-for-Postgres.sql of that tag
--     (same database), both copied unchanged.
-- v6.7.3's docker/initsql/migrate.sql is not run: it is optional upgrade
-- DDL for older v6 databases (and fails on `task_records`); everything it
-- adds is part of v7.0.0 here.  SQLite starts at v7.0.0 (no v6 SQLite).
-- Nightingale's own start-up (gorm AutoMigrate) may add columns to a
-- database created from these files; v7.0.0's steps tolerate that.
local MYSQL = [==[
set names utf8mb4;


CREATE TABLE `users` (
    `id` bigint unsigned not null auto_increment,
    `username` varchar(64) not null comment 'login name, cannot rename',
    `nickname` varchar(64) not null comment 'display name, chinese name',
    `password` varchar(128) not null default '',
    `phone` varchar(16) not null default '',
    `email` varchar(64) not null default '',
    `portrait` varchar(255) not null default '' comment 'portrait image url',
    `roles` varchar(255) not null comment 'Admin | Standard | Guest, split by space',
    `contacts` varchar(1024) comment 'json e.g. {wecom:xx, dingtalk_robot_token:yy}',
    `maintainer` tinyint(1) not null default 0,
    `create_at` bigint not null default 0,
    `create_by` varchar(64) not null default '',
    `update_at` bigint not null default 0,
    `update_by` varchar(64) not null default '',
    PRIMARY KEY (`id`),
    UNIQUE KEY (`username`)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4;

insert into `users`(id, username, nickname, password, roles, create_at, create_by, update_at, update_by) values(1, 'root', '超管', 'root.2020', 'Admin', unix_timestamp(now()), 'system', unix_timestamp(now()), 'system');

CREATE TABLE `user_group` (
    `id` bigint unsigned not null auto_increment,
    `name` varchar(128) not null default '',
    `note` varchar(255) not null default '',
    `create_at` bigint not null default 0,
    `create_by` varchar(64) not null default '',
    `update_at` bigint not null default 0,
    `update_by` varchar(64) not null default '',
    PRIMARY KEY (`id`),
    KEY (`create_by`),
    KEY (`update_at`)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4;

insert into user_group(id, name, create_at, create_by, update_at, update_by) values(1, 'demo-root-group', unix_timestamp(now()), 'root', unix_timestamp(now()), 'root');

CREATE TABLE `user_group_member` (
    `id` bigint unsigned not null auto_increment,
    `group_id` bigint unsigned not null,
    `user_id` bigint unsigned not null,
    KEY (`group_id`),
    KEY (`user_id`),
    PRIMARY KEY(`id`)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4;

insert into user_group_member(group_id, user_id) values(1, 1);

CREATE TABLE `configs` (
    `id` bigint unsigned not null auto_increment,
    `ckey` varchar(191) not null,
    `cval` text not null,
    PRIMARY KEY (`id`),
    UNIQUE KEY (`ckey`)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4;

CREATE TABLE `role` (
    `id` bigint unsigned not null auto_increment,
    `name` varchar(191) not null default '',
    `note` varchar(255) not null default '',
    PRIMARY KEY (`id`),
    UNIQUE KEY (`name`)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4;

insert into `role`(name, note) values('Admin', 'Administrator role');
insert into `role`(name, note) values('Standard', 'Ordinary user role');
insert into `role`(name, note) values('Guest', 'Readonly user role');

CREATE TABLE `role_operation`(
    `id` bigint unsigned not null auto_increment,
    `role_name` varchar(128) not null,
    `operation` varchar(191) not null,
    KEY (`role_name`),
    KEY (`operation`),
    PRIMARY KEY(`id`)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4;

-- Admin is special, who has no concrete operation but can do anything.
insert into `role_operation`(role_name, operation) values('Guest', '/metric/explorer');
insert into `role_operation`(role_name, operation) values('Guest', '/object/explorer');
insert into `role_operation`(role_name, operation) values('Guest', '/log/explorer');
insert into `role_operation`(role_name, operation) values('Guest', '/trace/explorer');
insert into `role_operation`(role_name, operation) values('Guest', '/help/version');
insert into `role_operation`(role_name, operation) values('Guest', '/help/contact');

insert into `role_operation`(role_name, operation) values('Standard', '/metric/explorer');
insert into `role_operation`(role_name, operation) values('Standard', '/object/explorer');
insert into `role_operation`(role_name, operation) values('Standard', '/log/explorer');
insert into `role_operation`(role_name, operation) values('Standard', '/trace/explorer');
insert into `role_operation`(role_name, operation) values('Standard', '/help/version');
insert into `role_operation`(role_name, operation) values('Standard', '/help/contact');
insert into `role_operation`(role_name, operation) values('Standard', '/help/servers');
insert into `role_operation`(role_name, operation) values('Standard', '/help/migrate');
insert into `role_operation`(role_name, operation) values('Standard', '/alert-rules-built-in');
insert into `role_operation`(role_name, operation) values('Standard', '/dashboards-built-in');
insert into `role_operation`(role_name, operation) values('Standard', '/trace/dependencies');

insert into `role_operation`(role_name, operation) values('Admin', '/help/source');
insert into `role_operation`(role_name, operation) values('Admin', '/help/sso');
insert into `role_operation`(role_name, operation) values('Admin', '/help/notification-tpls');
insert into `role_operation`(role_name, operation) values('Admin', '/help/notification-settings');

insert into `role_operation`(role_name, operation) values('Standard', '/users');
insert into `role_operation`(role_name, operation) values('Standard', '/user-groups');
insert into `role_operation`(role_name, operation) values('Standard', '/user-groups/add');
insert into `role_operation`(role_name, operation) values('Standard', '/user-groups/put');
insert into `role_operation`(role_name, operation) values('Standard', '/user-groups/del');
insert into `role_operation`(role_name, operation) values('Standard', '/busi-groups');
insert into `role_operation`(role_name, operation) values('Standard', '/busi-groups/add');
insert into `role_operation`(role_name, operation) values('Standard', '/busi-groups/put');
insert into `role_operation`(role_name, operation) values('Standard', '/busi-groups/del');
insert into `role_operation`(role_name, operation) values('Standard', '/targets');
insert into `role_operation`(role_name, operation) values('Standard', '/targets/add');
insert into `role_operation`(role_name, operation) values('Standard', '/targets/put');
insert into `role_operation`(role_name, operation) values('Standard', '/targets/del');
insert into `role_operation`(role_name, operation) values('Standard', '/dashboards');
insert into `role_operation`(role_name, operation) values('Standard', '/dashboards/add');
insert into `role_operation`(role_name, operation) values('Standard', '/dashboards/put');
insert into `role_operation`(role_name, operation) values('Standard', '/dashboards/del');
insert into `role_operation`(role_name, operation) values('Standard', '/alert-rules');
insert into `role_operation`(role_name, operation) values('Standard', '/alert-rules/add');
insert into `role_operation`(role_name, operation) values('Standard', '/alert-rules/put');
insert into `role_operation`(role_name, operation) values('Standard', '/alert-rules/del');
insert into `role_operation`(role_name, operation) values('Standard', '/alert-mutes');
insert into `role_operation`(role_name, operation) values('Standard', '/alert-mutes/add');
insert into `role_operation`(role_name, operation) values('Standard', '/alert-mutes/del');
insert into `role_operation`(role_name, operation) values('Standard', '/alert-subscribes');
insert into `role_operation`(role_name, operation) values('Standard', '/alert-subscribes/add');
insert into `role_operation`(role_name, operation) values('Standard', '/alert-subscribes/put');
insert into `role_operation`(role_name, operation) values('Standard', '/alert-subscribes/del');
insert into `role_operation`(role_name, operation) values('Standard', '/alert-cur-events');
insert into `role_operation`(role_name, operation) values('Standard', '/alert-cur-events/del');
insert into `role_operation`(role_name, operation) values('Standard', '/alert-his-events');
insert into `role_operation`(role_name, operation) values('Standard', '/job-tpls');
insert into `role_operation`(role_name, operation) values('Standard', '/job-tpls/add');
insert into `role_operation`(role_name, operation) values('Standard', '/job-tpls/put');
insert into `role_operation`(role_name, operation) values('Standard', '/job-tpls/del');
insert into `role_operation`(role_name, operation) values('Standard', '/job-tasks');
insert into `role_operation`(role_name, operation) values('Standard', '/job-tasks/add');
insert into `role_operation`(role_name, operation) values('Standard', '/job-tasks/put');
insert into `role_operation`(role_name, operation) values('Standard', '/recording-rules');
insert into `role_operation`(role_name, operation) values('Standard', '/recording-rules/add');
insert into `role_operation`(role_name, operation) values('Standard', '/recording-rules/put');
insert into `role_operation`(role_name, operation) values('Standard', '/recording-rules/del');

-- for alert_rule | collect_rule | mute | dashboard grouping
CREATE TABLE `busi_group` (
    `id` bigint unsigned not null auto_increment,
    `name` varchar(191) not null,
    `label_enable` tinyint(1) not null default 0,
    `label_value` varchar(191) not null default '' comment 'if label_enable: label_value can not be blank',
    `create_at` bigint not null default 0,
    `create_by` varchar(64) not null default '',
    `update_at` bigint not null default 0,
    `update_by` varchar(64) not null default '',
    PRIMARY KEY (`id`),
    UNIQUE KEY (`name`)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4;

insert into busi_group(id, name, create_at, create_by, update_at, update_by) values(1, 'Default Busi Group', unix_timestamp(now()), 'root', unix_timestamp(now()), 'root');

CREATE TABLE `busi_group_member` (
    `id` bigint unsigned not null auto_increment,
    `busi_group_id` bigint not null comment 'busi group id',
    `user_group_id` bigint not null comment 'user group id',
    `perm_flag` char(2) not null comment 'ro | rw',
    PRIMARY KEY (`id`),
    KEY (`busi_group_id`),
    KEY (`user_group_id`)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4;

insert into busi_group_member(busi_group_id, user_group_id, perm_flag) values(1, 1, 'rw');

-- for dashboard new version
CREATE TABLE `board` (
    `id` bigint unsigned not null auto_increment,
    `group_id` bigint not null default 0 comment 'busi group id',
    `name` varchar(191) not null,
    `ident` varchar(200) not null default '',
    `tags` varchar(255) not null comment 'split by space',
    `public` tinyint(1) not null default 0 comment '0:false 1:true',
    `built_in` tinyint(1) not null default 0 comment '0:false 1:true',
    `hide` tinyint(1) not null default 0 comment '0:false 1:true',
    `create_at` bigint not null default 0,
    `create_by` varchar(64) not null default '',
    `update_at` bigint not null default 0,
    `update_by` varchar(64) not null default '',
    PRIMARY KEY (`id`),
    UNIQUE KEY (`group_id`, `name`),
    KEY(`ident`)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4;

-- for dashboard new version
CREATE TABLE `board_payload` (
    `id` bigint unsigned not null comment 'dashboard id',
    `payload` mediumtext not null,
    UNIQUE KEY (`id`)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4;

-- deprecated
CREATE TABLE `dashboard` (
    `id` bigint unsigned not null auto_increment,
    `group_id` bigint not null default 0 comment 'busi group id',
    `name` varchar(191) not null,
    `tags` varchar(255) not null comment 'split by space',
    `configs` varchar(8192) comment 'dashboard variables',
    `create_at` bigint not null default 0,
    `create_by` varchar(64) not null default '',
    `update_at` bigint not null default 0,
    `update_by` varchar(64) not null default '',
    PRIMARY KEY (`id`),
    UNIQUE KEY (`group_id`, `name`)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4;

-- deprecated
-- auto create the first subclass 'Default chart group' of dashboard
CREATE TABLE `chart_group` (
    `id` bigint unsigned not null auto_increment,
    `dashboard_id` bigint unsigned not null,
    `name` varchar(255) not null,
    `weight` int not null default 0,
    PRIMARY KEY (`id`),
    KEY (`dashboard_id`)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4;

-- deprecated
CREATE TABLE `chart` (
    `id` bigint unsigned not null auto_increment,
    `group_id` bigint unsigned not null comment 'chart group id',
    `configs` text,
    `weight` int not null default 0,
    PRIMARY KEY (`id`),
    KEY (`group_id`)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4;

CREATE TABLE `chart_share` (
    `id` bigint unsigned not null auto_increment,
    `cluster` varchar(128) not null,
    `datasource_id` bigint unsigned not null default 0,
    `configs` text,
    `create_at` bigint not null default 0,
    `create_by` varchar(64) not null default '',
    primary key (`id`),
    key (`create_at`)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4;

CREATE TABLE `alert_rule` (
    `id` bigint unsigned not null auto_increment,
    `group_id` bigint not null default 0 comment 'busi group id',
    `cate` varchar(128) not null,
    `datasource_ids` varchar(255) not null default '' comment 'datasource ids',
    `cluster` varchar(128) not null,
    `name` varchar(255) not null,
    `note` varchar(1024) not null default '',
    `prod` varchar(255) not null default '',
    `algorithm` varchar(255) not null default '',
    `algo_params` varchar(255),
    `delay` int not null default 0,
    `severity` tinyint(1) not null comment '1:Emergency 2:Warning 3:Notice',
    `disabled` tinyint(1) not null comment '0:enabled 1:disabled',
    `prom_for_duration` int not null comment 'prometheus for, unit:s',
    `rule_config` text not null comment 'rule_config',
    `prom_ql` text not null comment 'promql',
    `prom_eval_interval` int not null comment 'evaluate interval',
    `enable_stime` varchar(255) not null default '00:00',
    `enable_etime` varchar(255) not null default '23:59',
    `enable_days_of_week` varchar(255) not null default '' comment 'split by space: 0 1 2 3 4 5 6',
    `enable_in_bg` tinyint(1) not null default 0 comment '1: only this bg 0: global',
    `notify_recovered` tinyint(1) not null comment 'whether notify when recovery',
    `notify_channels` varchar(255) not null default '' comment 'split by space: sms voice email dingtalk wecom',
    `notify_groups` varchar(255) not null default '' comment 'split by space: 233 43',
    `notify_repeat_step` int not null default 0 comment 'unit: min',
    `notify_max_number` int not null default 0 comment '',
    `recover_duration` int not null default 0 comment 'unit: s',
    `callbacks` varchar(1024) not null default '' comment 'split by space: http://a.com/api/x http://a.com/api/y',
    `runbook_url` varchar(255),
    `append_tags` varchar(255) not null default '' comment 'split by space: service=n9e mod=api',
    `annotations` text not null comment 'annotations',
    `extra_config` text not null comment 'extra_config',
    `create_at` bigint not null default 0,
    `create_by` varchar(64) not null default '',
    `update_at` bigint not null default 0,
    `update_by` varchar(64) not null default '',
    PRIMARY KEY (`id`),
    KEY (`group_id`),
    KEY (`update_at`)
) ENGINE=InnoDB DEFAULT CHARSET = utf8mb4;

CREATE TABLE `alert_mute` (
    `id` bigint unsigned not null auto_increment,
    `group_id` bigint not null default 0 comment 'busi group id',
    `prod` varchar(255) not null default '',
    `note` varchar(1024) not null default '',
    `cate` varchar(128) not null,
    `cluster` varchar(128) not null,
    `datasource_ids` varchar(255) not null default '' comment 'datasource ids',
    `tags` varchar(4096) not null default '' comment 'json,map,tagkey->regexp|value',
    `cause` varchar(255) not null default '',
    `btime` bigint not null default 0 comment 'begin time',
    `etime` bigint not null default 0 comment 'end time',
    `disabled` tinyint(1) not null default 0 comment '0:enabled 1:disabled',
    `mute_time_type` tinyint(1) not null default 0,
    `periodic_mutes` varchar(4096) not null default '',
    `severities` varchar(32) not null default '',
    `create_at` bigint not null default 0,
    `create_by` varchar(64) not null default '',
    `update_at` bigint not null default 0,
    `update_by` varchar(64) not null default '',
    PRIMARY KEY (`id`),
    KEY (`create_at`),
    KEY (`group_id`)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4;

CREATE TABLE `alert_subscribe` (
    `id` bigint unsigned not null auto_increment,
    `name` varchar(255) not null default '',
    `disabled` tinyint(1) not null default 0 comment '0:enabled 1:disabled',
    `group_id` bigint not null default 0 comment 'busi group id',
    `prod` varchar(255) not null default '',
    `cate` varchar(128) not null,
    `datasource_ids` varchar(255) not null default '' comment 'datasource ids',
    `cluster` varchar(128) not null,
    `rule_id` bigint not null default 0,
    `severities` varchar(32) not null default '',
    `tags` varchar(4096) not null default '' comment 'json,map,tagkey->regexp|value',
    `redefine_severity` tinyint(1) default 0 comment 'is redefine severity?',
    `new_severity` tinyint(1) not null comment '0:Emergency 1:Warning 2:Notice',
    `redefine_channels` tinyint(1) default 0 comment 'is redefine channels?',
    `new_channels` varchar(255) not null default '' comment 'split by space: sms voice email dingtalk wecom',
    `user_group_ids` varchar(250) not null comment 'split by space 1 34 5, notify cc to user_group_ids',
    `webhooks` text not null,
    `extra_config` text not null comment 'extra_config',
    `redefine_webhooks` tinyint(1) default 0,
    `for_duration` bigint not null default 0,
    `create_at` bigint not null default 0,
    `create_by` varchar(64) not null default '',
    `update_at` bigint not null default 0,
    `update_by` varchar(64) not null default '',
    PRIMARY KEY (`id`),
    KEY (`update_at`),
    KEY (`group_id`)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4;

CREATE TABLE `target` (
    `id` bigint unsigned not null auto_increment,
    `group_id` bigint not null default 0 comment 'busi group id',
    `ident` varchar(191) not null comment 'target id',
    `note` varchar(255) not null default '' comment 'append to alert event as field',
    `tags` varchar(512) not null default '' comment 'append to series data as tags, split by space, append external space at suffix',
    `update_at` bigint not null default 0,
    PRIMARY KEY (`id`),
    UNIQUE KEY (`ident`),
    KEY (`group_id`)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4;



-- case1: target_idents; case2: target_tags
-- CREATE TABLE `collect_rule` (
--     `id` bigint unsigned not null auto_increment,
--     `group_id` bigint not null default 0 comment 'busi group id',
--     `cluster` varchar(128) not null,
--     `target_idents` varchar(512) not null default '' comment 'ident list, split by space',
--     `target_tags` varchar(512) not null default '' comment 'filter targets by tags, split by space',
--     `name` varchar(191) not null default '',
--     `note` varchar(255) not null default '',
--     `step` int not null,
--     `type` varchar(64) not null comment 'e.g. port proc log plugin',
--     `data` text not null,
--     `append_tags` varchar(255) not null default '' comment 'split by space: e.g. mod=n9e dept=cloud',
--     `create_at` bigint not null default 0,
--     `create_by` varchar(64) not null default '',
--     `update_at` bigint not null default 0,
--     `update_by` varchar(64) not null default '',
--     PRIMARY KEY (`id`),
--     KEY (`group_id`, `type`, `name`)
-- ) ENGINE=InnoDB DEFAULT CHARSET = utf8mb4;

CREATE TABLE `metric_view` (
    `id` bigint unsigned not null auto_increment,
    `name` varchar(191) not null default '',
    `cate` tinyint(1) not null comment '0: preset 1: custom',
    `configs` varchar(8192) not null default '',
    `create_at` bigint not null default 0,
    `create_by` bigint not null default 0 comment 'user id',
    `update_at` bigint not null default 0,
    PRIMARY KEY (`id`),
    KEY (`create_by`)
) ENGINE=InnoDB DEFAULT CHARSET = utf8mb4;

insert into metric_view(name, cate, configs) values('Host View', 0, '{"filters":[{"oper":"=","label":"__name__","value":"cpu_usage_idle"}],"dynamicLabels":[],"dimensionLabels":[{"label":"ident","value":""}]}');

CREATE TABLE `recording_rule` (
    `id` bigint unsigned not null auto_increment,
    `group_id` bigint not null default '0' comment 'group_id',
    `datasource_ids` varchar(255) not null default '' comment 'datasource ids',
    `cluster` varchar(128) not null,
    `name` varchar(255) not null comment 'new metric name',
    `note` varchar(255) not null comment 'rule note',
    `disabled` tinyint(1) not null default 0 comment '0:enabled 1:disabled',
    `prom_ql` varchar(8192) not null comment 'promql',
    `prom_eval_interval` int not null comment 'evaluate interval',
    `append_tags` varchar(255) default '' comment 'split by space: service=n9e mod=api',
    `query_configs` text not null comment 'query configs',
    `create_at` bigint default '0',
    `create_by` varchar(64) default '',
    `update_at` bigint default '0',
    `update_by` varchar(64) default '',
    PRIMARY KEY (`id`),
    KEY `group_id` (`group_id`),
    KEY `update_at` (`update_at`)
) ENGINE=InnoDB DEFAULT CHARSET = utf8mb4;

CREATE TABLE `alert_aggr_view` (
    `id` bigint unsigned not null auto_increment,
    `name` varchar(191) not null default '',
    `rule` varchar(2048) not null default '',
    `cate` tinyint(1) not null comment '0: preset 1: custom',
    `create_at` bigint not null default 0,
    `create_by` bigint not null default 0 comment 'user id',
    `update_at` bigint not null default 0,
    PRIMARY KEY (`id`),
    KEY (`create_by`)
) ENGINE=InnoDB DEFAULT CHARSET = utf8mb4;

insert into alert_aggr_view(name, rule, cate) values('By BusiGroup, Severity', 'field:group_name::field:severity', 0);
insert into alert_aggr_view(name, rule, cate) values('By RuleName', 'field:rule_name', 0);

CREATE TABLE `alert_cur_event` (
    `id` bigint unsigned not null comment 'use alert_his_event.id',
    `cate` varchar(128) not null,
    `datasource_id` bigint not null default 0 comment 'datasource id',
    `cluster` varchar(128) not null,
    `group_id` bigint unsigned not null comment 'busi group id of rule',
    `group_name` varchar(255) not null default '' comment 'busi group name',
    `hash` varchar(64) not null comment 'rule_id + vector_pk',
    `rule_id` bigint unsigned not null,
    `rule_name` varchar(255) not null,
    `rule_note` varchar(2048) not null default 'alert rule note',
    `rule_prod` varchar(255) not null default '',
    `rule_algo` varchar(255) not null default '',
    `severity` tinyint(1) not null comment '0:Emergency 1:Warning 2:Notice',
    `prom_for_duration` int not null comment 'prometheus for, unit:s',
    `prom_ql` varchar(8192) not null comment 'promql',
    `prom_eval_interval` int not null comment 'evaluate interval',
    `callbacks` varchar(255) not null default '' comment 'split by space: http://a.com/api/x http://a.com/api/y',
    `runbook_url` varchar(255),
    `notify_recovered` tinyint(1) not null comment 'whether notify when recovery',
    `notify_channels` varchar(255) not null default '' comment 'split by space: sms voice email dingtalk wecom',
    `notify_groups` varchar(255) not null default '' comment 'split by space: 233 43',
    `notify_repeat_next` bigint not null default 0 comment 'next timestamp to notify, get repeat settings from rule',
    `notify_cur_number` int not null default 0 comment '',
    `target_ident` varchar(191) not null default '' comment 'target ident, also in tags',
    `target_note` varchar(191) not null default '' comment 'target note',
    `first_trigger_time` bigint,
    `trigger_time` bigint not null,
    `trigger_value` varchar(255) not null,
    `annotations` text not null comment 'annotations',
    `rule_config` text not null comment 'annotations',
    `tags` varchar(1024) not null default '' comment 'merge data_tags rule_tags, split by ,,',
    PRIMARY KEY (`id`),
    KEY (`hash`),
    KEY (`rule_id`),
    KEY (`trigger_time`, `group_id`),
    KEY (`notify_repeat_next`)
) ENGINE=InnoDB DEFAULT CHARSET = utf8mb4;

CREATE TABLE `alert_his_event` (
    `id` bigint unsigned not null AUTO_INCREMENT,
    `is_recovered` tinyint(1) not null,
    `cate` varchar(128) not null,
    `datasource_id` bigint not null default 0 comment 'datasource id',
    `cluster` varchar(128) not null,
    `group_id` bigint unsigned not null comment 'busi group id of rule',
    `group_name` varchar(255) not null default '' comment 'busi group name',
    `hash` varchar(64) not null comment 'rule_id + vector_pk',
    `rule_id` bigint unsigned not null,
    `rule_name` varchar(255) not null,
    `rule_note` varchar(2048) not null default 'alert rule note',
    `rule_prod` varchar(255) not null default '',
    `rule_algo` varchar(255) not null default '',
    `severity` tinyint(1) not null comment '0:Emergency 1:Warning 2:Notice',
    `prom_for_duration` int not null comment 'prometheus for, unit:s',
    `prom_ql` varchar(8192) not null comment 'promql',
    `prom_eval_interval` int not null comment 'evaluate interval',
    `callbacks` varchar(255) not null default '' comment 'split by space: http://a.com/api/x http://a.com/api/y',
    `runbook_url` varchar(255),
    `notify_recovered` tinyint(1) not null comment 'whether notify when recovery',
    `notify_channels` varchar(255) not null default '' comment 'split by space: sms voice email dingtalk wecom',
    `notify_groups` varchar(255) not null default '' comment 'split by space: 233 43',
    `notify_cur_number` int not null default 0 comment '',
    `target_ident` varchar(191) not null default '' comment 'target ident, also in tags',
    `target_note` varchar(191) not null default '' comment 'target note',
    `first_trigger_time` bigint,
    `trigger_time` bigint not null,
    `trigger_value` varchar(255) not null,
    `recover_time` bigint not null default 0,
    `last_eval_time` bigint not null default 0 comment 'for time filter',
    `tags` varchar(1024) not null default '' comment 'merge data_tags rule_tags, split by ,,',
    `annotations` text not null comment 'annotations',
    `rule_config` text not null comment 'annotations',
    PRIMARY KEY (`id`),
    KEY (`hash`),
    KEY (`rule_id`),
    KEY (`trigger_time`, `group_id`)
) ENGINE=InnoDB DEFAULT CHARSET = utf8mb4;

CREATE TABLE `task_tpl`
(
    `id`        int unsigned NOT NULL AUTO_INCREMENT,
    `group_id`  int unsigned not null comment 'busi group id',
    `title`     varchar(255) not null default '',
    `account`   varchar(64)  not null,
    `batch`     int unsigned not null default 0,
    `tolerance` int unsigned not null default 0,
    `timeout`   int unsigned not null default 0,
    `pause`     varchar(255) not null default '',
    `script`    text         not null,
    `args`      varchar(512) not null default '',
    `tags`      varchar(255) not null default '' comment 'split by space',
    `create_at` bigint not null default 0,
    `create_by` varchar(64) not null default '',
    `update_at` bigint not null default 0,
    `update_by` varchar(64) not null default '',
    PRIMARY KEY (`id`),
    KEY (`group_id`)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4;

CREATE TABLE `task_tpl_host`
(
    `ii`   int unsigned NOT NULL AUTO_INCREMENT,
    `id`   int unsigned not null comment 'task tpl id',
    `host` varchar(128)  not null comment 'ip or hostname',
    PRIMARY KEY (`ii`),
    KEY (`id`, `host`)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4;

CREATE TABLE `task_record`
(
    `id` bigint unsigned not null comment 'ibex task id',
    `event_id` bigint not null comment 'event id' default 0,
    `group_id` bigint not null comment 'busi group id',
    `ibex_address`   varchar(128) not null,
    `ibex_auth_user` varchar(128) not null default '',
    `ibex_auth_pass` varchar(128) not null default '',
    `title`     varchar(255)    not null default '',
    `account`   varchar(64)     not null,
    `batch`     int unsigned    not null default 0,
    `tolerance` int unsigned    not null default 0,
    `timeout`   int unsigned    not null default 0,
    `pause`     varchar(255)    not null default '',
    `script`    text            not null,
    `args`      varchar(512)    not null default '',
    `create_at` bigint not null default 0,
    `create_by` varchar(64) not null default '',
    PRIMARY KEY (`id`),
    KEY (`create_at`, `group_id`),
    KEY (`create_by`),
    KEY (`event_id`)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4;

CREATE TABLE `alerting_engines`
(
    `id` int unsigned NOT NULL AUTO_INCREMENT,
    `instance` varchar(128) not null default '' comment 'instance identification, e.g. 10.9.0.9:9090',
    `datasource_id` bigint not null default 0 comment 'datasource id',
    `engine_cluster` varchar(128) not null default '' comment 'n9e-alert cluster',
    `clock` bigint not null,
    PRIMARY KEY (`id`)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4;

CREATE TABLE `datasource`
(
    `id` int unsigned NOT NULL AUTO_INCREMENT,
    `name` varchar(191) not null default '',
    `description` varchar(255) not null default '',
    `category` varchar(255) not null default '',
    `plugin_id` int unsigned not null default 0,
    `plugin_type` varchar(255) not null default '',
    `plugin_type_name` varchar(255) not null default '',
    `cluster_name` varchar(255) not null default '',
    `settings` text not null,
    `status` varchar(255) not null default '',
    `http` varchar(4096) not null default '',
    `auth` varchar(8192) not null default '',
    `created_at` bigint not null default 0,
    `created_by` varchar(64) not null default '',
    `updated_at` bigint not null default 0,
    `updated_by` varchar(64) not null default '',
    UNIQUE KEY (`name`),
    PRIMARY KEY (`id`)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4;

CREATE TABLE `builtin_cate` (
    `id` bigint unsigned not null auto_increment,
    `name` varchar(191) not null,
    `user_id` bigint not null default 0,
    PRIMARY KEY (`id`)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4;

CREATE TABLE `notify_tpl` (
    `id` bigint unsigned not null auto_increment,
    `channel` varchar(32) not null,
    `name` varchar(255) not null,
    `content` text not null,
    PRIMARY KEY (`id`),
    UNIQUE KEY (`channel`)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4;

CREATE TABLE `sso_config` (
    `id` bigint unsigned not null auto_increment,
    `name` varchar(191) not null,
    `content` text not null,
    PRIMARY KEY (`id`),
    UNIQUE KEY (`name`)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4;

CREATE TABLE `es_index_pattern` (
    `id` bigint unsigned not null auto_increment,
    `datasource_id` bigint not null default 0 comment 'datasource id',
    `name` varchar(191) not null,
    `time_field` varchar(128) not null default '@timestamp',
    `allow_hide_system_indices` tinyint(1) not null default 0,
    `fields_format` varchar(4096) not null default '',
    `create_at` bigint default '0',
    `create_by` varchar(64) default '',
    `update_at` bigint default '0',
    `update_by` varchar(64) default '',
    PRIMARY KEY (`id`),
    UNIQUE KEY (`datasource_id`, `name`)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4;
]==]

local POSTGRES_N9E = [==[
CREATE TABLE users (
    id bigserial,
    username varchar(64) not null ,
    nickname varchar(64) not null ,
    password varchar(128) not null default '',
    phone varchar(16) not null default '',
    email varchar(64) not null default '',
    portrait varchar(255) not null default '' ,
    roles varchar(255) not null ,
    contacts varchar(1024) ,
    maintainer smallint not null default 0,
    create_at bigint not null default 0,
    create_by varchar(64) not null default '',
    update_at bigint not null default 0,
    update_by varchar(64) not null default '',
    PRIMARY KEY (id),
    UNIQUE (username)
) ;
COMMENT ON COLUMN users.username IS 'login name, cannot rename';
COMMENT ON COLUMN users.nickname IS 'display name, chinese name';
COMMENT ON COLUMN users.portrait IS 'portrait image url';
COMMENT ON COLUMN users.roles IS 'Admin | Standard | Guest, split by space';
COMMENT ON COLUMN users.contacts IS 'json e.g. {wecom:xx, dingtalk_robot_token:yy}';

insert into users(id, username, nickname, password, roles, create_at, create_by, update_at, update_by) values(1, 'root', '超管', 'root.2020', 'Admin', date_part('epoch',current_timestamp)::int, 'system', date_part('epoch',current_timestamp)::int, 'system');

CREATE TABLE user_group (
    id bigserial,
    name varchar(128) not null default '',
    note varchar(255) not null default '',
    create_at bigint not null default 0,
    create_by varchar(64) not null default '',
    update_at bigint not null default 0,
    update_by varchar(64) not null default '',
    PRIMARY KEY (id)
) ;
CREATE INDEX user_group_create_by_idx ON user_group (create_by);
CREATE INDEX user_group_update_at_idx ON user_group (update_at);

insert into user_group(id, name, create_at, create_by, update_at, update_by) values(1, 'demo-root-group', date_part('epoch',current_timestamp)::int, 'root', date_part('epoch',current_timestamp)::int, 'root');

CREATE TABLE user_group_member (
    id bigserial,
    group_id bigint  not null,
    user_id bigint  not null,
    PRIMARY KEY(id)
) ;
CREATE INDEX user_group_member_group_id_idx ON user_group_member (group_id);
CREATE INDEX user_group_member_user_id_idx ON user_group_member (user_id);

insert into user_group_member(group_id, user_id) values(1, 1);

CREATE TABLE configs (
    id bigserial,
    ckey varchar(191) not null,
    cval text not null default '',
    PRIMARY KEY (id),
    UNIQUE (ckey)
) ;

CREATE TABLE role (
    id bigserial,
    name varchar(191) not null default '',
    note varchar(255) not null default '',
    PRIMARY KEY (id),
    UNIQUE (name)
) ;

insert into role(name, note) values('Admin', 'Administrator role');
insert into role(name, note) values('Standard', 'Ordinary user role');
insert into role(name, note) values('Guest', 'Readonly user role');

CREATE TABLE role_operation(
    id bigserial,
    role_name varchar(128) not null,
    operation varchar(191) not null,
    PRIMARY KEY(id)
) ;
CREATE INDEX role_operation_role_name_idx ON role_operation (role_name);
CREATE INDEX role_operation_operation_idx ON role_operation (operation);


-- Admin is special, who has no concrete operation but can do anything.
insert into role_operation(role_name, operation) values('Guest', '/metric/explorer');
insert into role_operation(role_name, operation) values('Guest', '/object/explorer');
insert into role_operation(role_name, operation) values('Guest', '/log/explorer');
insert into role_operation(role_name, operation) values('Guest', '/trace/explorer');
insert into role_operation(role_name, operation) values('Guest', '/help/version');
insert into role_operation(role_name, operation) values('Guest', '/help/contact');

insert into role_operation(role_name, operation) values('Standard', '/metric/explorer');
insert into role_operation(role_name, operation) values('Standard', '/object/explorer');
insert into role_operation(role_name, operation) values('Standard', '/log/explorer');
insert into role_operation(role_name, operation) values('Standard', '/trace/explorer');
insert into role_operation(role_name, operation) values('Standard', '/help/version');
insert into role_operation(role_name, operation) values('Standard', '/help/contact');
insert into role_operation(role_name, operation) values('Standard', '/help/servers');
insert into role_operation(role_name, operation) values('Standard', '/help/migrate');

insert into role_operation(role_name, operation) values('Standard', '/alert-rules-built-in');
insert into role_operation(role_name, operation) values('Standard', '/dashboards-built-in');
insert into role_operation(role_name, operation) values('Standard', '/trace/dependencies');

insert into role_operation(role_name, operation) values('Admin', '/help/source');
insert into role_operation(role_name, operation) values('Admin', '/help/sso');
insert into role_operation(role_name, operation) values('Admin', '/help/notification-tpls');
insert into role_operation(role_name, operation) values('Admin', '/help/notification-settings');

insert into role_operation(role_name, operation) values('Standard', '/users');
insert into role_operation(role_name, operation) values('Standard', '/user-groups');
insert into role_operation(role_name, operation) values('Standard', '/user-groups/add');
insert into role_operation(role_name, operation) values('Standard', '/user-groups/put');
insert into role_operation(role_name, operation) values('Standard', '/user-groups/del');
insert into role_operation(role_name, operation) values('Standard', '/busi-groups');
insert into role_operation(role_name, operation) values('Standard', '/busi-groups/add');
insert into role_operation(role_name, operation) values('Standard', '/busi-groups/put');
insert into role_operation(role_name, operation) values('Standard', '/busi-groups/del');
insert into role_operation(role_name, operation) values('Standard', '/targets');
insert into role_operation(role_name, operation) values('Standard', '/targets/add');
insert into role_operation(role_name, operation) values('Standard', '/targets/put');
insert into role_operation(role_name, operation) values('Standard', '/targets/del');
insert into role_operation(role_name, operation) values('Standard', '/dashboards');
insert into role_operation(role_name, operation) values('Standard', '/dashboards/add');
insert into role_operation(role_name, operation) values('Standard', '/dashboards/put');
insert into role_operation(role_name, operation) values('Standard', '/dashboards/del');
insert into role_operation(role_name, operation) values('Standard', '/alert-rules');
insert into role_operation(role_name, operation) values('Standard', '/alert-rules/add');
insert into role_operation(role_name, operation) values('Standard', '/alert-rules/put');
insert into role_operation(role_name, operation) values('Standard', '/alert-rules/del');
insert into role_operation(role_name, operation) values('Standard', '/alert-mutes');
insert into role_operation(role_name, operation) values('Standard', '/alert-mutes/add');
insert into role_operation(role_name, operation) values('Standard', '/alert-mutes/del');
insert into role_operation(role_name, operation) values('Standard', '/alert-subscribes');
insert into role_operation(role_name, operation) values('Standard', '/alert-subscribes/add');
insert into role_operation(role_name, operation) values('Standard', '/alert-subscribes/put');
insert into role_operation(role_name, operation) values('Standard', '/alert-subscribes/del');
insert into role_operation(role_name, operation) values('Standard', '/alert-cur-events');
insert into role_operation(role_name, operation) values('Standard', '/alert-cur-events/del');
insert into role_operation(role_name, operation) values('Standard', '/alert-his-events');
insert into role_operation(role_name, operation) values('Standard', '/job-tpls');
insert into role_operation(role_name, operation) values('Standard', '/job-tpls/add');
insert into role_operation(role_name, operation) values('Standard', '/job-tpls/put');
insert into role_operation(role_name, operation) values('Standard', '/job-tpls/del');
insert into role_operation(role_name, operation) values('Standard', '/job-tasks');
insert into role_operation(role_name, operation) values('Standard', '/job-tasks/add');
insert into role_operation(role_name, operation) values('Standard', '/job-tasks/put');
insert into role_operation(role_name, operation) values('Standard', '/recording-rules');
insert into role_operation(role_name, operation) values('Standard', '/recording-rules/add');
insert into role_operation(role_name, operation) values('Standard', '/recording-rules/put');
insert into role_operation(role_name, operation) values('Standard', '/recording-rules/del');

-- for alert_rule | collect_rule | mute | dashboard grouping
CREATE TABLE busi_group (
    id bigserial,
    name varchar(191) not null,
    label_enable smallint not null default 0,
    label_value varchar(191) not null default '' ,
    create_at bigint not null default 0,
    create_by varchar(64) not null default '',
    update_at bigint not null default 0,
    update_by varchar(64) not null default '',
    PRIMARY KEY (id),
    UNIQUE (name)
) ;
COMMENT ON COLUMN busi_group.label_value IS 'if label_enable: label_value can not be blank';

insert into busi_group(id, name, create_at, create_by, update_at, update_by) values(1, 'Default Busi Group', date_part('epoch',current_timestamp)::int, 'root', date_part('epoch',current_timestamp)::int, 'root');

CREATE TABLE busi_group_member (
    id bigserial,
    busi_group_id bigint not null ,
    user_group_id bigint not null ,
    perm_flag char(2) not null ,
    PRIMARY KEY (id)
) ;
CREATE INDEX busi_group_member_busi_group_id_idx ON busi_group_member (busi_group_id);
CREATE INDEX busi_group_member_user_group_id_idx ON busi_group_member (user_group_id);
COMMENT ON COLUMN busi_group_member.busi_group_id IS 'busi group id';
COMMENT ON COLUMN busi_group_member.user_group_id IS 'user group id';
COMMENT ON COLUMN busi_group_member.perm_flag IS 'ro | rw';


insert into busi_group_member(busi_group_id, user_group_id, perm_flag) values(1, 1, 'rw');

-- for dashboard new version
CREATE TABLE board (
    id bigserial,
    group_id bigint not null default 0 ,
    name varchar(191) not null,
    ident varchar(200) not null default '',
    tags varchar(255) not null ,
    public smallint not null default 0 ,
    built_in smallint not null default 0 ,
    hide smallint not null default 0 ,
    create_at bigint not null default 0,
    create_by varchar(64) not null default '',
    update_at bigint not null default 0,
    update_by varchar(64) not null default '',
    PRIMARY KEY (id),
    UNIQUE (group_id, name)
) ;
CREATE INDEX board_ident_idx ON board (ident);
COMMENT ON COLUMN board.group_id IS 'busi group id';
COMMENT ON COLUMN board.tags IS 'split by space';
COMMENT ON COLUMN board.public IS '0:false 1:true';
COMMENT ON COLUMN board.built_in IS '0:false 1:true';
COMMENT ON COLUMN board.hide IS '0:false 1:true';


-- for dashboard new version
CREATE TABLE board_payload (
    id bigint  not null ,
    payload text not null,
    UNIQUE (id)
) ;
COMMENT ON COLUMN board_payload.id IS 'dashboard id';

-- deprecated
CREATE TABLE dashboard (
    id bigserial,
    group_id bigint not null default 0 ,
    name varchar(191) not null,
    tags varchar(255) not null ,
    configs varchar(8192) ,
    create_at bigint not null default 0,
    create_by varchar(64) not null default '',
    update_at bigint not null default 0,
    update_by varchar(64) not null default '',
    PRIMARY KEY (id),
    UNIQUE (group_id, name)
) ;
COMMENT ON COLUMN dashboard.group_id IS 'busi group id';
COMMENT ON COLUMN dashboard.tags IS 'split by space';
COMMENT ON COLUMN dashboard.configs IS 'dashboard variables';

-- deprecated
-- auto create the first subclass 'Default chart group' of dashboard
CREATE TABLE chart_group (
    id bigserial,
    dashboard_id bigint  not null,
    name varchar(255) not null,
    weight int not null default 0,
    PRIMARY KEY (id)
) ;
CREATE INDEX chart_group_dashboard_id_idx ON chart_group (dashboard_id);

-- deprecated
CREATE TABLE chart (
    id bigserial,
    group_id bigint  not null ,
    configs text,
    weight int not null default 0,
    PRIMARY KEY (id)
) ;
CREATE INDEX chart_group_id_idx ON chart (group_id);
COMMENT ON COLUMN chart.group_id IS 'chart group id';


CREATE TABLE chart_share (
    id bigserial,
    cluster varchar(128) not null,
    datasource_id bigint  not null default 0,
    configs text,
    create_at bigint not null default 0,
    create_by varchar(64) not null default '',
    primary key (id)
) ;
CREATE INDEX chart_share_create_at_idx ON chart_share (create_at);


CREATE TABLE alert_rule (
    id bigserial,
    group_id bigint not null default 0 ,
    cate varchar(128) not null,
    datasource_ids varchar(255) not null default '' ,
    cluster varchar(128) not null,
    name varchar(255) not null,
    note varchar(1024) not null default '',
    prod varchar(255) not null default '',
    algorithm varchar(255) not null default '',
    algo_params varchar(255),
    delay int not null default 0,
    severity smallint not null ,
    disabled smallint not null ,
    prom_for_duration int not null ,
    rule_config text not null ,
    prom_ql text not null ,
    prom_eval_interval int not null ,
    enable_stime varchar(255) not null default '00:00',
    enable_etime varchar(255) not null default '23:59',
    enable_days_of_week varchar(255) not null default '' ,
    enable_in_bg smallint not null default 0 ,
    notify_recovered smallint not null ,
    notify_channels varchar(255) not null default '' ,
    notify_groups varchar(255) not null default '' ,
    notify_repeat_step int not null default 0 ,
    notify_max_number int not null default 0 ,
    recover_duration int not null default 0 ,
    callbacks varchar(255) not null default '' ,
    runbook_url varchar(255),
    append_tags varchar(255) not null default '' ,
    annotations text not null ,
    extra_config text not null ,
    create_at bigint not null default 0,
    create_by varchar(64) not null default '',
    update_at bigint not null default 0,
    update_by varchar(64) not null default '',
    PRIMARY KEY (id)
) ;
CREATE INDEX alert_rule_group_id_idx ON alert_rule (group_id);
CREATE INDEX alert_rule_update_at_idx ON alert_rule (update_at);
COMMENT ON COLUMN alert_rule.group_id IS 'busi group id';
COMMENT ON COLUMN alert_rule.datasource_ids IS 'datasource ids';
COMMENT ON COLUMN alert_rule.severity IS '1:Emergency 2:Warning 3:Notice';
COMMENT ON COLUMN alert_rule.disabled IS '0:enabled 1:disabled';
COMMENT ON COLUMN alert_rule.prom_for_duration IS 'prometheus for, unit:s';
COMMENT ON COLUMN alert_rule.rule_config IS 'rule_config';
COMMENT ON COLUMN alert_rule.prom_ql IS 'promql';
COMMENT ON COLUMN alert_rule.prom_eval_interval IS 'evaluate interval';
COMMENT ON COLUMN alert_rule.enable_stime IS '00:00';
COMMENT ON COLUMN alert_rule.enable_etime IS '23:59';
COMMENT ON COLUMN alert_rule.enable_days_of_week IS 'split by space: 0 1 2 3 4 5 6';
COMMENT ON COLUMN alert_rule.enable_in_bg IS '1: only this bg 0: global';
COMMENT ON COLUMN alert_rule.notify_recovered IS 'whether notify when recovery';
COMMENT ON COLUMN alert_rule.notify_channels IS 'split by space: sms voice email dingtalk wecom';
COMMENT ON COLUMN alert_rule.notify_groups IS 'split by space: 233 43';
COMMENT ON COLUMN alert_rule.notify_repeat_step IS 'unit: min';
COMMENT ON COLUMN alert_rule.recover_duration IS 'unit: s';
COMMENT ON COLUMN alert_rule.callbacks IS 'split by space: http://a.com/api/x http://a.com/api/y';
COMMENT ON COLUMN alert_rule.append_tags IS 'split by space: service=n9e mod=api';
COMMENT ON COLUMN alert_rule.annotations IS 'annotations';
COMMENT ON COLUMN alert_rule.extra_config IS 'extra_config';

CREATE TABLE alert_mute (
    id bigserial,
    group_id bigint not null default 0 ,
    prod varchar(255) not null default '',
    note varchar(1024) not null default '',
    cate varchar(128) not null,
    cluster varchar(128) not null,
    datasource_ids varchar(255) not null default '' ,
    tags jsonb NOT NULL ,
    cause varchar(255) not null default '',
    btime bigint not null default 0 ,
    etime bigint not null default 0 ,
    disabled smallint not null default 0 ,
    mute_time_type smallint not null default 0,
    periodic_mutes varchar(4096) not null default '',
    severities varchar(32) not null default '',
    create_at bigint not null default 0,
    create_by varchar(64) not null default '',
    update_at bigint not null default 0,
    update_by varchar(64) not null default '',
    PRIMARY KEY (id)
) ;
CREATE INDEX alert_mute_group_id_idx ON alert_mute (group_id);
CREATE INDEX alert_mute_update_at_idx ON alert_mute (update_at);
COMMENT ON COLUMN alert_mute.group_id IS 'busi group id';
COMMENT ON COLUMN alert_mute.datasource_ids IS 'datasource ids';
COMMENT ON COLUMN alert_mute.tags IS 'json,map,tagkey->regexp|value';
COMMENT ON COLUMN alert_mute.btime IS 'begin time';
COMMENT ON COLUMN alert_mute.etime IS 'end time';
COMMENT ON COLUMN alert_mute.disabled IS '0:enabled 1:disabled';


CREATE TABLE alert_subscribe (
    id bigserial,
    name varchar(255) not null default '',
    disabled smallint not null default 0 ,
    group_id bigint not null default 0 ,
    prod varchar(255) not null default '',
    cate varchar(128) not null,
    datasource_ids varchar(255) not null default '' ,
    cluster varchar(128) not null,
    rule_id bigint not null default 0,
    severities varchar(32) not null default '',
    tags varchar(4096) not null default '[]',
    redefine_severity smallint default 0 ,
    new_severity smallint not null ,
    redefine_channels smallint default 0 ,
    new_channels varchar(255) not null default '' ,
    user_group_ids varchar(250) not null ,
    webhooks text not null,
    extra_config text not null,
    redefine_webhooks smallint default 0,
    for_duration bigint not null default 0,
    create_at bigint not null default 0,
    create_by varchar(64) not null default '',
    update_at bigint not null default 0,
    update_by varchar(64) not null default '',
    PRIMARY KEY (id)
) ;
CREATE INDEX alert_subscribe_group_id_idx ON alert_subscribe (group_id);
CREATE INDEX alert_subscribe_update_at_idx ON alert_subscribe (update_at);
COMMENT ON COLUMN alert_subscribe.disabled IS '0:enabled 1:disabled';
COMMENT ON COLUMN alert_subscribe.group_id IS 'busi group id';
COMMENT ON COLUMN alert_subscribe.datasource_ids IS 'datasource ids';
COMMENT ON COLUMN alert_subscribe.tags IS 'json,map,tagkey->regexp|value';
COMMENT ON COLUMN alert_subscribe.redefine_severity IS 'is redefine severity?';
COMMENT ON COLUMN alert_subscribe.new_severity IS '0:Emergency 1:Warning 2:Notice';
COMMENT ON COLUMN alert_subscribe.redefine_channels IS 'is redefine channels?';
COMMENT ON COLUMN alert_subscribe.new_channels IS 'split by space: sms voice email dingtalk wecom';
COMMENT ON COLUMN alert_subscribe.user_group_ids IS 'split by space 1 34 5, notify cc to user_group_ids';
COMMENT ON COLUMN alert_subscribe.extra_config IS 'extra_config';


CREATE TABLE target (
    id bigserial,
    group_id bigint not null default 0 ,
    ident varchar(191) not null ,
    note varchar(255) not null default '' ,
    tags varchar(512) not null default '' ,
    update_at bigint not null default 0,
    PRIMARY KEY (id),
    UNIQUE (ident)
) ;
CREATE INDEX target_group_id_idx ON target (group_id);
COMMENT ON COLUMN target.group_id IS 'busi group id';
COMMENT ON COLUMN target.ident IS 'target id';
COMMENT ON COLUMN target.note IS 'append to alert event as field';
COMMENT ON COLUMN target.tags IS 'append to series data as tags, split by space, append external space at suffix';

-- case1: target_idents; case2: target_tags
-- CREATE TABLE collect_rule (
--     id bigserial,
--     group_id bigint not null default 0 comment 'busi group id',
--     cluster varchar(128) not null,
--     target_idents varchar(512) not null default '' comment 'ident list, split by space',
--     target_tags varchar(512) not null default '' comment 'filter targets by tags, split by space',
--     name varchar(191) not null default '',
--     note varchar(255) not null default '',
--     step int not null,
--     type varchar(64) not null comment 'e.g. port proc log plugin',
--     data text not null,
--     append_tags varchar(255) not null default '' comment 'split by space: e.g. mod=n9e dept=cloud',
--     create_at bigint not null default 0,
--     create_by varchar(64) not null default '',
--     update_at bigint not null default 0,
--     update_by varchar(64) not null default '',
--     PRIMARY KEY (id),
--     KEY (group_id, type, name)
-- ) ;

CREATE TABLE metric_view (
    id bigserial,
    name varchar(191) not null default '',
    cate smallint not null ,
    configs varchar(8192) not null default '',
    create_at bigint not null default 0,
    create_by bigint not null default 0,
    update_at bigint not null default 0,
    PRIMARY KEY (id)
) ;
CREATE INDEX metric_view_create_by_idx ON metric_view (create_by);
COMMENT ON COLUMN metric_view.cate IS '0: preset 1: custom';
COMMENT ON COLUMN metric_view.create_by IS 'user id';


insert into metric_view(name, cate, configs) values('Host View', 0, '{"filters":[{"oper":"=","label":"__name__","value":"cpu_usage_idle"}],"dynamicLabels":[],"dimensionLabels":[{"label":"ident","value":""}]}');
 
CREATE TABLE recording_rule (
    id bigserial,
    group_id bigint not null default '0',
    datasource_ids varchar(255) not null default '',
    cluster varchar(128) not null,
    name varchar(255) not null ,
    note varchar(255) not null ,
    disabled smallint not null default 0 ,
    prom_ql varchar(8192) not null ,
    prom_eval_interval int not null ,
    append_tags varchar(255) default '' ,
    query_configs text not null ,
    create_at bigint default '0',
    create_by varchar(64) default '',
    update_at bigint default '0',
    update_by varchar(64) default '',
    PRIMARY KEY (id)
) ;
CREATE INDEX recording_rule_group_id_idx ON recording_rule (group_id);
CREATE INDEX recording_rule_update_at_idx ON recording_rule (update_at);
COMMENT ON COLUMN recording_rule.group_id IS 'group_id';
COMMENT ON COLUMN recording_rule.datasource_ids IS 'datasource ids';
COMMENT ON COLUMN recording_rule.name IS 'new metric name';
COMMENT ON COLUMN recording_rule.note IS 'rule note';
COMMENT ON COLUMN recording_rule.disabled IS '0:enabled 1:disabled';
COMMENT ON COLUMN recording_rule.prom_ql IS 'promql';
COMMENT ON COLUMN recording_rule.prom_eval_interval IS 'evaluate interval';
COMMENT ON COLUMN recording_rule.append_tags IS 'split by space: service=n9e mod=api';
COMMENT ON COLUMN recording_rule.query_configs IS 'query configs';


CREATE TABLE alert_aggr_view (
    id bigserial,
    name varchar(191) not null default '',
    rule varchar(2048) not null default '',
    cate smallint not null ,
    create_at bigint not null default 0,
    create_by bigint not null default 0,
    update_at bigint not null default 0,
    PRIMARY KEY (id)
) ;
CREATE INDEX alert_aggr_view_create_by_idx ON alert_aggr_view (create_by);
COMMENT ON COLUMN alert_aggr_view.cate IS '0: preset 1: custom';
COMMENT ON COLUMN alert_aggr_view.create_by IS 'user id';


insert into alert_aggr_view(name, rule, cate) values('By BusiGroup, Severity', 'field:group_name::field:severity', 0);
insert into alert_aggr_view(name, rule, cate) values('By RuleName', 'field:rule_name', 0);

CREATE TABLE alert_cur_event (
    id bigint  not null ,
    cate varchar(128) not null,
    datasource_id bigint not null default 0 ,
    cluster varchar(128) not null,
    group_id bigint  not null ,
    group_name varchar(255) not null default '' ,
    hash varchar(64) not null ,
    rule_id bigint  not null,
    rule_name varchar(255) not null,
    rule_note varchar(2048) not null ,
    rule_prod varchar(255) not null default '',
    rule_algo varchar(255) not null default '',
    severity smallint not null ,
    prom_for_duration int not null ,
    prom_ql varchar(8192) not null ,
    prom_eval_interval int not null ,
    callbacks varchar(255) not null default '' ,
    runbook_url varchar(255),
    notify_recovered smallint not null ,
    notify_channels varchar(255) not null default '' ,
    notify_groups varchar(255) not null default '' ,
    notify_repeat_next bigint not null default 0 ,
    notify_cur_number int not null default 0 ,
    target_ident varchar(191) not null default '' ,
    target_note varchar(191) not null default '' ,
    first_trigger_time bigint,
    trigger_time bigint not null,
    trigger_value varchar(255) not null,
    annotations text not null ,
    rule_config text not null ,
    tags varchar(1024) not null default '' ,
    PRIMARY KEY (id)
) ;
CREATE INDEX alert_cur_event_hash_idx ON alert_cur_event (hash);
CREATE INDEX alert_cur_event_rule_id_idx ON alert_cur_event (rule_id);
CREATE INDEX alert_cur_event_tg_idx ON alert_cur_event (trigger_time, group_id);
CREATE INDEX alert_cur_event_nrn_idx ON alert_cur_event (notify_repeat_next);
COMMENT ON COLUMN alert_cur_event.id IS 'use alert_his_event.id';
COMMENT ON COLUMN alert_cur_event.datasource_id IS 'datasource id';
COMMENT ON COLUMN alert_cur_event.group_id IS 'busi group id of rule';
COMMENT ON COLUMN alert_cur_event.group_name IS 'busi group name';
COMMENT ON COLUMN alert_cur_event.hash IS 'rule_id + vector_pk';
COMMENT ON COLUMN alert_cur_event.rule_note IS 'alert rule note';
COMMENT ON COLUMN alert_cur_event.severity IS '1:Emergency 2:Warning 3:Notice';
COMMENT ON COLUMN alert_cur_event.prom_for_duration IS 'prometheus for, unit:s';
COMMENT ON COLUMN alert_cur_event.prom_ql IS 'promql';
COMMENT ON COLUMN alert_cur_event.prom_eval_interval IS 'evaluate interval';
COMMENT ON COLUMN alert_cur_event.callbacks IS 'split by space: http://a.com/api/x http://a.com/api/y';
COMMENT ON COLUMN alert_cur_event.notify_recovered IS 'whether notify when recovery';
COMMENT ON COLUMN alert_cur_event.notify_channels IS 'split by space: sms voice email dingtalk wecom';
COMMENT ON COLUMN alert_cur_event.notify_groups IS 'split by space: 233 43';
COMMENT ON COLUMN alert_cur_event.notify_repeat_next IS 'next timestamp to notify, get repeat settings from rule';
COMMENT ON COLUMN alert_cur_event.target_ident IS 'target ident, also in tags';
COMMENT ON COLUMN alert_cur_event.target_note IS 'target note';
COMMENT ON COLUMN alert_cur_event.annotations IS 'annotations';
COMMENT ON COLUMN alert_cur_event.rule_config IS 'rule_config';
COMMENT ON COLUMN alert_cur_event.tags IS 'merge data_tags rule_tags, split by ,,';


CREATE TABLE alert_his_event (
    id bigserial,
    is_recovered smallint not null,
    cate varchar(128) not null,
    datasource_id bigint not null default 0 ,
    cluster varchar(128) not null,
    group_id bigint  not null ,
    group_name varchar(255) not null default '' ,
    hash varchar(64) not null ,
    rule_id bigint  not null,
    rule_name varchar(255) not null,
    rule_note varchar(2048) not null default 'alert rule note',
    rule_prod varchar(255) not null default '',
    rule_algo varchar(255) not null default '',
    severity smallint not null ,
    prom_for_duration int not null ,
    prom_ql varchar(8192) not null ,
    prom_eval_interval int not null ,
    callbacks varchar(255) not null default '' ,
    runbook_url varchar(255),
    notify_recovered smallint not null ,
    notify_channels varchar(255) not null default '' ,
    notify_groups varchar(255) not null default '' ,
    notify_cur_number int not null default 0 ,
    target_ident varchar(191) not null default '' ,
    target_note varchar(191) not null default '' ,
    first_trigger_time bigint,
    trigger_time bigint not null,
    trigger_value varchar(255) not null,
    recover_time bigint not null default 0,
    last_eval_time bigint not null default 0 ,
    tags varchar(1024) not null default '' ,
    annotations text not null ,
    rule_config text not null ,
    PRIMARY KEY (id)
) ;
CREATE INDEX alert_his_event_hash_idx ON alert_his_event (hash);
CREATE INDEX alert_his_event_rule_id_idx ON alert_his_event (rule_id);
CREATE INDEX alert_his_event_tg_idx ON alert_his_event (trigger_time, group_id);
COMMENT ON COLUMN alert_his_event.group_id IS 'busi group id of rule';
COMMENT ON COLUMN alert_his_event.datasource_id IS 'datasource id';
COMMENT ON COLUMN alert_his_event.group_name IS 'busi group name';
COMMENT ON COLUMN alert_his_event.hash IS 'rule_id + vector_pk';
COMMENT ON COLUMN alert_his_event.rule_note IS 'alert rule note';
COMMENT ON COLUMN alert_his_event.severity IS '0:Emergency 1:Warning 2:Notice';
COMMENT ON COLUMN alert_his_event.prom_for_duration IS 'prometheus for, unit:s';
COMMENT ON COLUMN alert_his_event.prom_ql IS 'promql';
COMMENT ON COLUMN alert_his_event.prom_eval_interval IS 'evaluate interval';
COMMENT ON COLUMN alert_his_event.callbacks IS 'split by space: http://a.com/api/x http://a.com/api/y';
COMMENT ON COLUMN alert_his_event.notify_recovered IS 'whether notify when recovery';
COMMENT ON COLUMN alert_his_event.notify_channels IS 'split by space: sms voice email dingtalk wecom';
COMMENT ON COLUMN alert_his_event.notify_groups IS 'split by space: 233 43';
COMMENT ON COLUMN alert_his_event.target_ident IS 'target ident, also in tags';
COMMENT ON COLUMN alert_his_event.target_note IS 'target note';
COMMENT ON COLUMN alert_his_event.last_eval_time IS 'for time filter';
COMMENT ON COLUMN alert_his_event.tags IS 'merge data_tags rule_tags, split by ,,';
COMMENT ON COLUMN alert_his_event.annotations IS 'annotations';
COMMENT ON COLUMN alert_his_event.rule_config IS 'rule_config';

CREATE TABLE task_tpl
(
    id        serial,
    group_id  int  not null ,
    title     varchar(255) not null default '',
    account   varchar(64)  not null,
    batch     int  not null default 0,
    tolerance int  not null default 0,
    timeout   int  not null default 0,
    pause     varchar(255) not null default '',
    script    text         not null,
    args      varchar(512) not null default '',
    tags      varchar(255) not null default '' ,
    create_at bigint not null default 0,
    create_by varchar(64) not null default '',
    update_at bigint not null default 0,
    update_by varchar(64) not null default '',
    PRIMARY KEY (id)
) ;
CREATE INDEX task_tpl_group_id_idx ON task_tpl (group_id);
COMMENT ON COLUMN task_tpl.group_id IS 'busi group id';
COMMENT ON COLUMN task_tpl.tags IS 'split by space';


CREATE TABLE task_tpl_host
(
    ii   serial,
    id   int  not null ,
    host varchar(128)  not null ,
    PRIMARY KEY (ii)
) ;
CREATE INDEX task_tpl_host_id_host_idx ON task_tpl_host (id, host);
COMMENT ON COLUMN task_tpl_host.id IS 'task tpl id';
COMMENT ON COLUMN task_tpl_host.host IS 'ip or hostname';


CREATE TABLE task_record
(
    id bigint  not null ,
    event_id bigint not null default 0,
    group_id bigint not null ,
    ibex_address   varchar(128) not null,
    ibex_auth_user varchar(128) not null default '',
    ibex_auth_pass varchar(128) not null default '',
    title     varchar(255)    not null default '',
    account   varchar(64)     not null,
    batch     int     not null default 0,
    tolerance int     not null default 0,
    timeout   int     not null default 0,
    pause     varchar(255)    not null default '',
    script    text            not null,
    args      varchar(512)    not null default '',
    create_at bigint not null default 0,
    create_by varchar(64) not null default '',
    PRIMARY KEY (id)
) ;
CREATE INDEX task_record_cg_idx ON task_record (create_at, group_id);
CREATE INDEX task_record_create_by_idx ON task_record (create_by);
CREATE INDEX task_record_event_id_idx ON task_record (event_id);
COMMENT ON COLUMN task_record.id IS 'ibex task id';
COMMENT ON COLUMN task_record.group_id IS 'busi group id';
COMMENT ON COLUMN task_record.event_id IS 'event id';

CREATE TABLE alerting_engines
(
    id serial,
    instance varchar(128) not null default '' ,
    datasource_id bigint not null default 0 ,
    engine_cluster varchar(128) not null default '' ,
    clock bigint not null,
    PRIMARY KEY (id)
) ;
COMMENT ON COLUMN alerting_engines.instance IS 'instance identification, e.g. 10.9.0.9:9090';
COMMENT ON COLUMN alerting_engines.datasource_id IS 'datasource id';
COMMENT ON COLUMN alerting_engines.engine_cluster IS 'target reader cluster';


CREATE TABLE datasource
(
    id serial,
    name varchar(191) not null default '',
    description varchar(255) not null default '',
    category varchar(255) not null default '',
    plugin_id int  not null default 0,
    plugin_type varchar(255) not null default '',
    plugin_type_name varchar(255) not null default '',
    cluster_name varchar(255) not null default '',
    settings text not null,
    status varchar(255) not null default '',
    http varchar(4096) not null default '',
    auth varchar(8192) not null default '',
    created_at bigint not null default 0,
    created_by varchar(64) not null default '',
    updated_at bigint not null default 0,
    updated_by varchar(64) not null default '',
    UNIQUE (name),
    PRIMARY KEY (id)
) ; 
  
CREATE TABLE builtin_cate (
    id bigserial,
    name varchar(191) not null,
    user_id bigint not null default 0,
    PRIMARY KEY (id)
) ;
 
CREATE TABLE notify_tpl (
    id bigserial,
    channel varchar(32) not null,
    name varchar(255) not null,
    content text not null,
    PRIMARY KEY (id),
    UNIQUE (channel)
) ;

CREATE TABLE sso_config (
    id bigserial,
    name varchar(191) not null,
    content text not null,
    PRIMARY KEY (id),
    UNIQUE (name)
) ;


CREATE TABLE es_index_pattern (
    id bigserial,
    datasource_id bigint not null default 0,
    name varchar(191) not null,
    time_field varchar(128) not null default '@timestamp',
    allow_hide_system_indices smallint not null default 0,
    fields_format varchar(4096) not null default '',
    create_at bigint default '0',
    create_by varchar(64) default '',
    update_at bigint default '0',
    update_by varchar(64) default '',
    PRIMARY KEY (id),
    UNIQUE (datasource_id, name)
) ;
COMMENT ON COLUMN es_index_pattern.datasource_id IS 'datasource id';
]==]

local POSTGRES_IBEX = [==[
CREATE TABLE task_meta
(
    id          bigserial,
    title       varchar(255)    not null default '',
    account     varchar(64)     not null,
    batch       int     not null default 0,
    tolerance   int     not null default 0,
    timeout     int     not null default 0,
    pause       varchar(255)    not null default '',
    script      text            not null,
    args        varchar(512)    not null default '',
    stdin       varchar(1024)   not null default '' ,
    creator     varchar(64)     not null default '',
    created     timestamp       not null default CURRENT_TIMESTAMP,
    PRIMARY KEY (id)
) ;
CREATE INDEX task_meta_creator_idx ON task_meta (creator);
CREATE INDEX task_meta_created_idx ON task_meta (created);

/* start|cancel|kill|pause */
CREATE TABLE task_action
(
    id     bigint  not null,
    action varchar(32)     not null,
    clock  bigint          not null default 0,
    PRIMARY KEY (id)
) ;

CREATE TABLE task_scheduler
(
    id        bigint  not null,
    scheduler varchar(128)    not null default ''
) ;
CREATE INDEX task_scheduler_id_scheduler_idx ON task_scheduler (id, scheduler);


CREATE TABLE task_scheduler_health
(
    scheduler varchar(128) not null,
    clock     bigint       not null,
    UNIQUE (scheduler)
) ;
CREATE INDEX task_scheduler_health_clock_idx ON task_scheduler_health (clock);


CREATE TABLE task_host_doing
(
    id     bigint  not null,
    host   varchar(128)    not null,
    clock  bigint          not null default 0,
    action varchar(16)     not null
) ;
CREATE INDEX task_host_doing_id_idx ON task_host_doing (id);
CREATE INDEX task_host_doing_host_idx ON task_host_doing (host);


CREATE TABLE task_host_0
(
    ii     bigserial,
    id     bigint  not null,
    host   varchar(128)    not null,
    status varchar(32)     not null,
    stdout text,
    stderr text,
    UNIQUE (id, host),
    PRIMARY KEY (ii)
) ;

CREATE TABLE task_host_1
(
    ii     bigserial,
    id     bigint  not null,
    host   varchar(128)    not null,
    status varchar(32)     not null,
    stdout text,
    stderr text,
    UNIQUE (id, host),
    PRIMARY KEY (ii)
) ;

CREATE TABLE task_host_2
(
    ii     bigserial,
    id     bigint  not null,
    host   varchar(128)    not null,
    status varchar(32)     not null,
    stdout text,
    stderr text,
    UNIQUE (id, host),
    PRIMARY KEY (ii)
) ;

CREATE TABLE task_host_3
(
    ii     bigserial,
    id     bigint  not null,
    host   varchar(128)    not null,
    status varchar(32)     not null,
    stdout text,
    stderr text,
    UNIQUE (id, host),
    PRIMARY KEY (ii)
) ;

CREATE TABLE task_host_4
(
    ii     bigserial,
    id     bigint  not null,
    host   varchar(128)    not null,
    status varchar(32)     not null,
    stdout text,
    stderr text,
    UNIQUE (id, host),
    PRIMARY KEY (ii)
) ;

CREATE TABLE task_host_5
(
    ii     bigserial,
    id     bigint  not null,
    host   varchar(128)    not null,
    status varchar(32)     not null,
    stdout text,
    stderr text,
    UNIQUE (id, host),
    PRIMARY KEY (ii)
) ;

CREATE TABLE task_host_6
(
    ii     bigserial,
    id     bigint  not null,
    host   varchar(128)    not null,
    status varchar(32)     not null,
    stdout text,
    stderr text,
    UNIQUE (id, host),
    PRIMARY KEY (ii)
) ;

CREATE TABLE task_host_7
(
    ii     bigserial,
    id     bigint  not null,
    host   varchar(128)    not null,
    status varchar(32)     not null,
    stdout text,
    stderr text,
    UNIQUE (id, host),
    PRIMARY KEY (ii)
) ;

CREATE TABLE task_host_8
(
    ii     bigserial,
    id     bigint  not null,
    host   varchar(128)    not null,
    status varchar(32)     not null,
    stdout text,
    stderr text,
    UNIQUE (id, host),
    PRIMARY KEY (ii)
) ;

CREATE TABLE task_host_9
(
    ii     bigserial,
    id     bigint  not null,
    host   varchar(128)    not null,
    status varchar(32)     not null,
    stdout text,
    stderr text,
    UNIQUE (id, host),
    PRIMARY KEY (ii)
) ;

CREATE TABLE task_host_10
(
    ii     bigserial,
    id     bigint  not null,
    host   varchar(128)    not null,
    status varchar(32)     not null,
    stdout text,
    stderr text,
    UNIQUE (id, host),
    PRIMARY KEY (ii)
) ;

CREATE TABLE task_host_11
(
    ii     bigserial,
    id     bigint  not null,
    host   varchar(128)    not null,
    status varchar(32)     not null,
    stdout text,
    stderr text,
    UNIQUE (id, host),
    PRIMARY KEY (ii)
) ;

CREATE TABLE task_host_12
(
    ii     bigserial,
    id     bigint  not null,
    host   varchar(128)    not null,
    status varchar(32)     not null,
    stdout text,
    stderr text,
    UNIQUE (id, host),
    PRIMARY KEY (ii)
) ;

CREATE TABLE task_host_13
(
    ii     bigserial,
    id     bigint  not null,
    host   varchar(128)    not null,
    status varchar(32)     not null,
    stdout text,
    stderr text,
    UNIQUE (id, host),
    PRIMARY KEY (ii)
) ;

CREATE TABLE task_host_14
(
    ii     bigserial,
    id     bigint  not null,
    host   varchar(128)    not null,
    status varchar(32)     not null,
    stdout text,
    stderr text,
    UNIQUE (id, host),
    PRIMARY KEY (ii)
) ;

CREATE TABLE task_host_15
(
    ii     bigserial,
    id     bigint  not null,
    host   varchar(128)    not null,
    status varchar(32)     not null,
    stdout text,
    stderr text,
    UNIQUE (id, host),
    PRIMARY KEY (ii)
) ;

CREATE TABLE task_host_16
(
    ii     bigserial,
    id     bigint  not null,
    host   varchar(128)    not null,
    status varchar(32)     not null,
    stdout text,
    stderr text,
    UNIQUE (id, host),
    PRIMARY KEY (ii)
) ;

CREATE TABLE task_host_17
(
    ii     bigserial,
    id     bigint  not null,
    host   varchar(128)    not null,
    status varchar(32)     not null,
    stdout text,
    stderr text,
    UNIQUE (id, host),
    PRIMARY KEY (ii)
) ;

CREATE TABLE task_host_18
(
    ii     bigserial,
    id     bigint  not null,
    host   varchar(128)    not null,
    status varchar(32)     not null,
    stdout text,
    stderr text,
    UNIQUE (id, host),
    PRIMARY KEY (ii)
) ;

CREATE TABLE task_host_19
(
    ii     bigserial,
    id     bigint  not null,
    host   varchar(128)    not null,
    status varchar(32)     not null,
    stdout text,
    stderr text,
    UNIQUE (id, host),
    PRIMARY KEY (ii)
) ;

CREATE TABLE task_host_20
(
    ii     bigserial,
    id     bigint  not null,
    host   varchar(128)    not null,
    status varchar(32)     not null,
    stdout text,
    stderr text,
    UNIQUE (id, host),
    PRIMARY KEY (ii)
) ;

CREATE TABLE task_host_21
(
    ii     bigserial,
    id     bigint  not null,
    host   varchar(128)    not null,
    status varchar(32)     not null,
    stdout text,
    stderr text,
    UNIQUE (id, host),
    PRIMARY KEY (ii)
) ;

CREATE TABLE task_host_22
(
    ii     bigserial,
    id     bigint  not null,
    host   varchar(128)    not null,
    status varchar(32)     not null,
    stdout text,
    stderr text,
    UNIQUE (id, host),
    PRIMARY KEY (ii)
) ;

CREATE TABLE task_host_23
(
    ii     bigserial,
    id     bigint  not null,
    host   varchar(128)    not null,
    status varchar(32)     not null,
    stdout text,
    stderr text,
    UNIQUE (id, host),
    PRIMARY KEY (ii)
) ;

CREATE TABLE task_host_24
(
    ii     bigserial,
    id     bigint  not null,
    host   varchar(128)    not null,
    status varchar(32)     not null,
    stdout text,
    stderr text,
    UNIQUE (id, host),
    PRIMARY KEY (ii)
) ;

CREATE TABLE task_host_25
(
    ii     bigserial,
    id     bigint  not null,
    host   varchar(128)    not null,
    status varchar(32)     not null,
    stdout text,
    stderr text,
    UNIQUE (id, host),
    PRIMARY KEY (ii)
) ;

CREATE TABLE task_host_26
(
    ii     bigserial,
    id     bigint  not null,
    host   varchar(128)    not null,
    status varchar(32)     not null,
    stdout text,
    stderr text,
    UNIQUE (id, host),
    PRIMARY KEY (ii)
) ;

CREATE TABLE task_host_27
(
    ii     bigserial,
    id     bigint  not null,
    host   varchar(128)    not null,
    status varchar(32)     not null,
    stdout text,
    stderr text,
    UNIQUE (id, host),
    PRIMARY KEY (ii)
) ;

CREATE TABLE task_host_28
(
    ii     bigserial,
    id     bigint  not null,
    host   varchar(128)    not null,
    status varchar(32)     not null,
    stdout text,
    stderr text,
    UNIQUE (id, host),
    PRIMARY KEY (ii)
) ;

CREATE TABLE task_host_29
(
    ii     bigserial,
    id     bigint  not null,
    host   varchar(128)    not null,
    status varchar(32)     not null,
    stdout text,
    stderr text,
    UNIQUE (id, host),
    PRIMARY KEY (ii)
) ;

CREATE TABLE task_host_30
(
    ii     bigserial,
    id     bigint  not null,
    host   varchar(128)    not null,
    status varchar(32)     not null,
    stdout text,
    stderr text,
    UNIQUE (id, host),
    PRIMARY KEY (ii)
) ;

CREATE TABLE task_host_31
(
    ii     bigserial,
    id     bigint  not null,
    host   varchar(128)    not null,
    status varchar(32)     not null,
    stdout text,
    stderr text,
    UNIQUE (id, host),
    PRIMARY KEY (ii)
) ;

CREATE TABLE task_host_32
(
    ii     bigserial,
    id     bigint  not null,
    host   varchar(128)    not null,
    status varchar(32)     not null,
    stdout text,
    stderr text,
    UNIQUE (id, host),
    PRIMARY KEY (ii)
) ;

CREATE TABLE task_host_33
(
    ii     bigserial,
    id     bigint  not null,
    host   varchar(128)    not null,
    status varchar(32)     not null,
    stdout text,
    stderr text,
    UNIQUE (id, host),
    PRIMARY KEY (ii)
) ;

CREATE TABLE task_host_34
(
    ii     bigserial,
    id     bigint  not null,
    host   varchar(128)    not null,
    status varchar(32)     not null,
    stdout text,
    stderr text,
    UNIQUE (id, host),
    PRIMARY KEY (ii)
) ;

CREATE TABLE task_host_35
(
    ii     bigserial,
    id     bigint  not null,
    host   varchar(128)    not null,
    status varchar(32)     not null,
    stdout text,
    stderr text,
    UNIQUE (id, host),
    PRIMARY KEY (ii)
) ;

CREATE TABLE task_host_36
(
    ii     bigserial,
    id     bigint  not null,
    host   varchar(128)    not null,
    status varchar(32)     not null,
    stdout text,
    stderr text,
    UNIQUE (id, host),
    PRIMARY KEY (ii)
) ;

CREATE TABLE task_host_37
(
    ii     bigserial,
    id     bigint  not null,
    host   varchar(128)    not null,
    status varchar(32)     not null,
    stdout text,
    stderr text,
    UNIQUE (id, host),
    PRIMARY KEY (ii)
) ;

CREATE TABLE task_host_38
(
    ii     bigserial,
    id     bigint  not null,
    host   varchar(128)    not null,
    status varchar(32)     not null,
    stdout text,
    stderr text,
    UNIQUE (id, host),
    PRIMARY KEY (ii)
) ;

CREATE TABLE task_host_39
(
    ii     bigserial,
    id     bigint  not null,
    host   varchar(128)    not null,
    status varchar(32)     not null,
    stdout text,
    stderr text,
    UNIQUE (id, host),
    PRIMARY KEY (ii)
) ;

CREATE TABLE task_host_40
(
    ii     bigserial,
    id     bigint  not null,
    host   varchar(128)    not null,
    status varchar(32)     not null,
    stdout text,
    stderr text,
    UNIQUE (id, host),
    PRIMARY KEY (ii)
) ;

CREATE TABLE task_host_41
(
    ii     bigserial,
    id     bigint  not null,
    host   varchar(128)    not null,
    status varchar(32)     not null,
    stdout text,
    stderr text,
    UNIQUE (id, host),
    PRIMARY KEY (ii)
) ;

CREATE TABLE task_host_42
(
    ii     bigserial,
    id     bigint  not null,
    host   varchar(128)    not null,
    status varchar(32)     not null,
    stdout text,
    stderr text,
    UNIQUE (id, host),
    PRIMARY KEY (ii)
) ;

CREATE TABLE task_host_43
(
    ii     bigserial,
    id     bigint  not null,
    host   varchar(128)    not null,
    status varchar(32)     not null,
    stdout text,
    stderr text,
    UNIQUE (id, host),
    PRIMARY KEY (ii)
) ;

CREATE TABLE task_host_44
(
    ii     bigserial,
    id     bigint  not null,
    host   varchar(128)    not null,
    status varchar(32)     not null,
    stdout text,
    stderr text,
    UNIQUE (id, host),
    PRIMARY KEY (ii)
) ;

CREATE TABLE task_host_45
(
    ii     bigserial,
    id     bigint  not null,
    host   varchar(128)    not null,
    status varchar(32)     not null,
    stdout text,
    stderr text,
    UNIQUE (id, host),
    PRIMARY KEY (ii)
) ;

CREATE TABLE task_host_46
(
    ii     bigserial,
    id     bigint  not null,
    host   varchar(128)    not null,
    status varchar(32)     not null,
    stdout text,
    stderr text,
    UNIQUE (id, host),
    PRIMARY KEY (ii)
) ;

CREATE TABLE task_host_47
(
    ii     bigserial,
    id     bigint  not null,
    host   varchar(128)    not null,
    status varchar(32)     not null,
    stdout text,
    stderr text,
    UNIQUE (id, host),
    PRIMARY KEY (ii)
) ;

CREATE TABLE task_host_48
(
    ii     bigserial,
    id     bigint  not null,
    host   varchar(128)    not null,
    status varchar(32)     not null,
    stdout text,
    stderr text,
    UNIQUE (id, host),
    PRIMARY KEY (ii)
) ;

CREATE TABLE task_host_49
(
    ii     bigserial,
    id     bigint  not null,
    host   varchar(128)    not null,
    status varchar(32)     not null,
    stdout text,
    stderr text,
    UNIQUE (id, host),
    PRIMARY KEY (ii)
) ;

CREATE TABLE task_host_50
(
    ii     bigserial,
    id     bigint  not null,
    host   varchar(128)    not null,
    status varchar(32)     not null,
    stdout text,
    stderr text,
    UNIQUE (id, host),
    PRIMARY KEY (ii)
) ;

CREATE TABLE task_host_51
(
    ii     bigserial,
    id     bigint  not null,
    host   varchar(128)    not null,
    status varchar(32)     not null,
    stdout text,
    stderr text,
    UNIQUE (id, host),
    PRIMARY KEY (ii)
) ;

CREATE TABLE task_host_52
(
    ii     bigserial,
    id     bigint  not null,
    host   varchar(128)    not null,
    status varchar(32)     not null,
    stdout text,
    stderr text,
    UNIQUE (id, host),
    PRIMARY KEY (ii)
) ;

CREATE TABLE task_host_53
(
    ii     bigserial,
    id     bigint  not null,
    host   varchar(128)    not null,
    status varchar(32)     not null,
    stdout text,
    stderr text,
    UNIQUE (id, host),
    PRIMARY KEY (ii)
) ;

CREATE TABLE task_host_54
(
    ii     bigserial,
    id     bigint  not null,
    host   varchar(128)    not null,
    status varchar(32)     not null,
    stdout text,
    stderr text,
    UNIQUE (id, host),
    PRIMARY KEY (ii)
) ;

CREATE TABLE task_host_55
(
    ii     bigserial,
    id     bigint  not null,
    host   varchar(128)    not null,
    status varchar(32)     not null,
    stdout text,
    stderr text,
    UNIQUE (id, host),
    PRIMARY KEY (ii)
) ;

CREATE TABLE task_host_56
(
    ii     bigserial,
    id     bigint  not null,
    host   varchar(128)    not null,
    status varchar(32)     not null,
    stdout text,
    stderr text,
    UNIQUE (id, host),
    PRIMARY KEY (ii)
) ;

CREATE TABLE task_host_57
(
    ii     bigserial,
    id     bigint  not null,
    host   varchar(128)    not null,
    status varchar(32)     not null,
    stdout text,
    stderr text,
    UNIQUE (id, host),
    PRIMARY KEY (ii)
) ;

CREATE TABLE task_host_58
(
    ii     bigserial,
    id     bigint  not null,
    host   varchar(128)    not null,
    status varchar(32)     not null,
    stdout text,
    stderr text,
    UNIQUE (id, host),
    PRIMARY KEY (ii)
) ;

CREATE TABLE task_host_59
(
    ii     bigserial,
    id     bigint  not null,
    host   varchar(128)    not null,
    status varchar(32)     not null,
    stdout text,
    stderr text,
    UNIQUE (id, host),
    PRIMARY KEY (ii)
) ;

CREATE TABLE task_host_60
(
    ii     bigserial,
    id     bigint  not null,
    host   varchar(128)    not null,
    status varchar(32)     not null,
    stdout text,
    stderr text,
    UNIQUE (id, host),
    PRIMARY KEY (ii)
) ;

CREATE TABLE task_host_61
(
    ii     bigserial,
    id     bigint  not null,
    host   varchar(128)    not null,
    status varchar(32)     not null,
    stdout text,
    stderr text,
    UNIQUE (id, host),
    PRIMARY KEY (ii)
) ;

CREATE TABLE task_host_62
(
    ii     bigserial,
    id     bigint  not null,
    host   varchar(128)    not null,
    status varchar(32)     not null,
    stdout text,
    stderr text,
    UNIQUE (id, host),
    PRIMARY KEY (ii)
) ;

CREATE TABLE task_host_63
(
    ii     bigserial,
    id     bigint  not null,
    host   varchar(128)    not null,
    status varchar(32)     not null,
    stdout text,
    stderr text,
    UNIQUE (id, host),
    PRIMARY KEY (ii)
) ;

CREATE TABLE task_host_64
(
    ii     bigserial,
    id     bigint  not null,
    host   varchar(128)    not null,
    status varchar(32)     not null,
    stdout text,
    stderr text,
    UNIQUE (id, host),
    PRIMARY KEY (ii)
) ;

CREATE TABLE task_host_65
(
    ii     bigserial,
    id     bigint  not null,
    host   varchar(128)    not null,
    status varchar(32)     not null,
    stdout text,
    stderr text,
    UNIQUE (id, host),
    PRIMARY KEY (ii)
) ;

CREATE TABLE task_host_66
(
    ii     bigserial,
    id     bigint  not null,
    host   varchar(128)    not null,
    status varchar(32)     not null,
    stdout text,
    stderr text,
    UNIQUE (id, host),
    PRIMARY KEY (ii)
) ;

CREATE TABLE task_host_67
(
    ii     bigserial,
    id     bigint  not null,
    host   varchar(128)    not null,
    status varchar(32)     not null,
    stdout text,
    stderr text,
    UNIQUE (id, host),
    PRIMARY KEY (ii)
) ;

CREATE TABLE task_host_68
(
    ii     bigserial,
    id     bigint  not null,
    host   varchar(128)    not null,
    status varchar(32)     not null,
    stdout text,
    stderr text,
    UNIQUE (id, host),
    PRIMARY KEY (ii)
) ;

CREATE TABLE task_host_69
(
    ii     bigserial,
    id     bigint  not null,
    host   varchar(128)    not null,
    status varchar(32)     not null,
    stdout text,
    stderr text,
    UNIQUE (id, host),
    PRIMARY KEY (ii)
) ;

CREATE TABLE task_host_70
(
    ii     bigserial,
    id     bigint  not null,
    host   varchar(128)    not null,
    status varchar(32)     not null,
    stdout text,
    stderr text,
    UNIQUE (id, host),
    PRIMARY KEY (ii)
) ;

CREATE TABLE task_host_71
(
    ii     bigserial,
    id     bigint  not null,
    host   varchar(128)    not null,
    status varchar(32)     not null,
    stdout text,
    stderr text,
    UNIQUE (id, host),
    PRIMARY KEY (ii)
) ;

CREATE TABLE task_host_72
(
    ii     bigserial,
    id     bigint  not null,
    host   varchar(128)    not null,
    status varchar(32)     not null,
    stdout text,
    stderr text,
    UNIQUE (id, host),
    PRIMARY KEY (ii)
) ;

CREATE TABLE task_host_73
(
    ii     bigserial,
    id     bigint  not null,
    host   varchar(128)    not null,
    status varchar(32)     not null,
    stdout text,
    stderr text,
    UNIQUE (id, host),
    PRIMARY KEY (ii)
) ;

CREATE TABLE task_host_74
(
    ii     bigserial,
    id     bigint  not null,
    host   varchar(128)    not null,
    status varchar(32)     not null,
    stdout text,
    stderr text,
    UNIQUE (id, host),
    PRIMARY KEY (ii)
) ;

CREATE TABLE task_host_75
(
    ii     bigserial,
    id     bigint  not null,
    host   varchar(128)    not null,
    status varchar(32)     not null,
    stdout text,
    stderr text,
    UNIQUE (id, host),
    PRIMARY KEY (ii)
) ;

CREATE TABLE task_host_76
(
    ii     bigserial,
    id     bigint  not null,
    host   varchar(128)    not null,
    status varchar(32)     not null,
    stdout text,
    stderr text,
    UNIQUE (id, host),
    PRIMARY KEY (ii)
) ;

CREATE TABLE task_host_77
(
    ii     bigserial,
    id     bigint  not null,
    host   varchar(128)    not null,
    status varchar(32)     not null,
    stdout text,
    stderr text,
    UNIQUE (id, host),
    PRIMARY KEY (ii)
) ;

CREATE TABLE task_host_78
(
    ii     bigserial,
    id     bigint  not null,
    host   varchar(128)    not null,
    status varchar(32)     not null,
    stdout text,
    stderr text,
    UNIQUE (id, host),
    PRIMARY KEY (ii)
) ;

CREATE TABLE task_host_79
(
    ii     bigserial,
    id     bigint  not null,
    host   varchar(128)    not null,
    status varchar(32)     not null,
    stdout text,
    stderr text,
    UNIQUE (id, host),
    PRIMARY KEY (ii)
) ;

CREATE TABLE task_host_80
(
    ii     bigserial,
    id     bigint  not null,
    host   varchar(128)    not null,
    status varchar(32)     not null,
    stdout text,
    stderr text,
    UNIQUE (id, host),
    PRIMARY KEY (ii)
) ;

CREATE TABLE task_host_81
(
    ii     bigserial,
    id     bigint  not null,
    host   varchar(128)    not null,
    status varchar(32)     not null,
    stdout text,
    stderr text,
    UNIQUE (id, host),
    PRIMARY KEY (ii)
) ;

CREATE TABLE task_host_82
(
    ii     bigserial,
    id     bigint  not null,
    host   varchar(128)    not null,
    status varchar(32)     not null,
    stdout text,
    stderr text,
    UNIQUE (id, host),
    PRIMARY KEY (ii)
) ;

CREATE TABLE task_host_83
(
    ii     bigserial,
    id     bigint  not null,
    host   varchar(128)    not null,
    status varchar(32)     not null,
    stdout text,
    stderr text,
    UNIQUE (id, host),
    PRIMARY KEY (ii)
) ;

CREATE TABLE task_host_84
(
    ii     bigserial,
    id     bigint  not null,
    host   varchar(128)    not null,
    status varchar(32)     not null,
    stdout text,
    stderr text,
    UNIQUE (id, host),
    PRIMARY KEY (ii)
) ;

CREATE TABLE task_host_85
(
    ii     bigserial,
    id     bigint  not null,
    host   varchar(128)    not null,
    status varchar(32)     not null,
    stdout text,
    stderr text,
    UNIQUE (id, host),
    PRIMARY KEY (ii)
) ;

CREATE TABLE task_host_86
(
    ii     bigserial,
    id     bigint  not null,
    host   varchar(128)    not null,
    status varchar(32)     not null,
    stdout text,
    stderr text,
    UNIQUE (id, host),
    PRIMARY KEY (ii)
) ;

CREATE TABLE task_host_87
(
    ii     bigserial,
    id     bigint  not null,
    host   varchar(128)    not null,
    status varchar(32)     not null,
    stdout text,
    stderr text,
    UNIQUE (id, host),
    PRIMARY KEY (ii)
) ;

CREATE TABLE task_host_88
(
    ii     bigserial,
    id     bigint  not null,
    host   varchar(128)    not null,
    status varchar(32)     not null,
    stdout text,
    stderr text,
    UNIQUE (id, host),
    PRIMARY KEY (ii)
) ;

CREATE TABLE task_host_89
(
    ii     bigserial,
    id     bigint  not null,
    host   varchar(128)    not null,
    status varchar(32)     not null,
    stdout text,
    stderr text,
    UNIQUE (id, host),
    PRIMARY KEY (ii)
) ;

CREATE TABLE task_host_90
(
    ii     bigserial,
    id     bigint  not null,
    host   varchar(128)    not null,
    status varchar(32)     not null,
    stdout text,
    stderr text,
    UNIQUE (id, host),
    PRIMARY KEY (ii)
) ;

CREATE TABLE task_host_91
(
    ii     bigserial,
    id     bigint  not null,
    host   varchar(128)    not null,
    status varchar(32)     not null,
    stdout text,
    stderr text,
    UNIQUE (id, host),
    PRIMARY KEY (ii)
) ;

CREATE TABLE task_host_92
(
    ii     bigserial,
    id     bigint  not null,
    host   varchar(128)    not null,
    status varchar(32)     not null,
    stdout text,
    stderr text,
    UNIQUE (id, host),
    PRIMARY KEY (ii)
) ;

CREATE TABLE task_host_93
(
    ii     bigserial,
    id     bigint  not null,
    host   varchar(128)    not null,
    status varchar(32)     not null,
    stdout text,
    stderr text,
    UNIQUE (id, host),
    PRIMARY KEY (ii)
) ;

CREATE TABLE task_host_94
(
    ii     bigserial,
    id     bigint  not null,
    host   varchar(128)    not null,
    status varchar(32)     not null,
    stdout text,
    stderr text,
    UNIQUE (id, host),
    PRIMARY KEY (ii)
) ;

CREATE TABLE task_host_95
(
    ii     bigserial,
    id     bigint  not null,
    host   varchar(128)    not null,
    status varchar(32)     not null,
    stdout text,
    stderr text,
    UNIQUE (id, host),
    PRIMARY KEY (ii)
) ;

CREATE TABLE task_host_96
(
    ii     bigserial,
    id     bigint  not null,
    host   varchar(128)    not null,
    status varchar(32)     not null,
    stdout text,
    stderr text,
    UNIQUE (id, host),
    PRIMARY KEY (ii)
) ;

CREATE TABLE task_host_97
(
    ii     bigserial,
    id     bigint  not null,
    host   varchar(128)    not null,
    status varchar(32)     not null,
    stdout text,
    stderr text,
    UNIQUE (id, host),
    PRIMARY KEY (ii)
) ;

CREATE TABLE task_host_98
(
    ii     bigserial,
    id     bigint  not null,
    host   varchar(128)    not null,
    status varchar(32)     not null,
    stdout text,
    stderr text,
    UNIQUE (id, host),
    PRIMARY KEY (ii)
) ;

CREATE TABLE task_host_99
(
    ii     bigserial,
    id     bigint  not null,
    host   varchar(128)    not null,
    status varchar(32)     not null,
    stdout text,
    stderr text,
    UNIQUE (id, host),
    PRIMARY KEY (ii)
) ;
]==]

local SCHEMA = {
  mysql = { MYSQL },
  postgres = { POSTGRES_N9E, POSTGRES_IBEX },
}

-- The tables the schema text creates (commented-out statements excluded),
-- read from the text itself so that verify never drifts from what up ran.
local function schema_tables(dialect)
  local names = {}
  for _, text in ipairs(SCHEMA[dialect]) do
    for name in ("\n" .. text):gmatch("\nCREATE TABLE%s+`?([%w_]+)") do names[#names + 1] = name end
  end
  return names
end

-- The runner's own tables (history, journal, shadow copies) are not n9e's.
local function nightingale_tables(db)
  local out = {}
  for _, t in ipairs(db:tables()) do
    if not (t:match("^n9e_migrate_") or t:match("^n9e_pre_") or t:match("^n9e_drop_")) then out[#out + 1] = t end
  end
  return out
end

return {
  version = "6.7.3",
  description = "Nightingale v6.7.3 baseline (MySQL and PostgreSQL schema and seed rows)",
  dialects = { "mysql", "postgres" },

  up = function(db)
    local existing = nightingale_tables(db)
    if #existing > 0 then
      error(("the v6.7.3 baseline runs on an empty database only, this one has %d tables (%s, ...): "
             .. "adopt it with `baseline VERSION` instead"):format(#existing, existing[1]))
    end
    for _, text in ipairs(SCHEMA[db.dialect]) do db:exec_script(text) end
  end,

  -- Holds on any later version too (`verify` re-runs it): every v6.7.3
  -- table is still there and the seeded root user and built-in roles exist.
  verify = function(db)
    local tables = schema_tables(db.dialect)
    assert(#tables == (db.dialect == "postgres" and 137 or 32), "schema text lists an unexpected number of tables")
    for _, name in ipairs(tables) do
      assert(db:table_exists(name), "table " .. name .. " is missing")
    end
    assert(db:scalar("SELECT count(*) FROM users WHERE username = ?", "root") == 1, "seed user root is missing")
    for _, role in ipairs({ "Admin", "Standard", "Guest" }) do
      assert(db:scalar("SELECT count(*) FROM role WHERE name = ?", role) == 1, "seed role " .. role .. " is missing")
    end
  end,

  -- no down: rollback stops here (lint: a script without a down says why)
  irreversible = "a baseline is where the chain starts: there is no version below it to return to",
}
