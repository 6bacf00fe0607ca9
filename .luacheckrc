std = "lua54"
max_line_length = 120
-- migration scripts and specs: see docs in README ("Writing a migration")
files["scripts/"] = { std = "lua54", globals = {}, read_globals = { "json" } }
-- Nightingale's schema is embedded verbatim: its long lines stay as shipped
files["scripts/7.0.0.lua"] = { max_line_length = false }
files["tests/spec/"] = { std = "+busted", max_line_length = 140 }
files["tests/cli/"] = { std = "+busted", max_line_length = 140 }
files["lua/migrate/testing.lua"] = { globals = { "arg", "os" } }
