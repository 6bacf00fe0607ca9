local log = require("migrate.log")
local metrics = require("migrate.metrics")

describe("metrics exposition", function()
  it("writes HELP and TYPE before the samples, and escapes label values and help text", function()
    local text = metrics.render({
      { name = "n9e_x", type = "gauge", help = 'a \\ back\nslash', samples = {
        { value = 1, labels = { { "version", 'q"u\\o\nte' }, { "step", "up" } } },
        { value = 0.25 },
        { value = 3.0 } } },
      { name = "n9e_h_seconds", type = "histogram", help = "h", samples = {
        { value = 2, labels = { { "le", "+Inf" } }, suffix = "_bucket" },
        { value = 1.5, suffix = "_sum" } } },
    })
    assert.are.equal(table.concat({
      "# HELP n9e_x a \\\\ back\\nslash",
      "# TYPE n9e_x gauge",
      'n9e_x{version="q\\"u\\\\o\\nte",step="up"} 1',
      "n9e_x 0.25",
      "n9e_x 3",
      "# HELP n9e_h_seconds h",
      "# TYPE n9e_h_seconds histogram",
      'n9e_h_seconds_bucket{le="+Inf"} 2',
      "n9e_h_seconds_sum 1.5",
      "" }, "\n"), text)
  end)

  it("reads the library's UTC timestamps back as seconds since the epoch", function()
    assert.are.equal(0, metrics.epoch("1970-01-01T00:00:00.000Z"))
    assert.are.equal(951782400, metrics.epoch("2000-02-29T00:00:00.000Z")) -- a leap day
    for _, t in ipairs({ 1714564800.25, 1796169057.606, 4102444799.5 }) do
      assert.is_true(math.abs(metrics.epoch(log.iso(t)) - t) < 0.001, log.iso(t))
    end
    assert.is_nil(metrics.epoch("yesterday"))
  end)

  it("writes UTC timestamps rounded to the millisecond, second after second", function()
    assert.are.equal("1970-01-01T00:00:00.000Z", log.iso(0))
    assert.are.equal("2023-11-14T22:13:21.000Z", log.iso(1700000000.9996)) -- not .000 of the second before
    assert.are.equal("2023-11-14T22:13:20.500Z", log.iso(1700000000.5))
    assert.are.equal("2023-11-14T22:13:21.002Z", log.iso(1700000001.0016))
    assert.are.equal("2023-11-14T22:13:20.250Z", log.iso(1700000000.25)) -- an earlier second again
  end)
end)
