local version = require("migrate.version")

describe("version ordering", function()
  it("orders Nightingale tags: pre-releases numerically, releases above them", function()
    local ordered = { "6.7.3", "7.0.0-beta.3", "7.0.0-beta.6", "7.0.0-beta.14", "7.0.0",
                      "7.0.1", "7.1.0", "7.10.0", "8.0.0-beta.1", "8.0.0", "9.1.1" }
    for i = 1, #ordered - 1 do
      assert.is_true(version.lt(ordered[i], ordered[i + 1]), ordered[i] .. " < " .. ordered[i + 1])
      assert.is_false(version.lt(ordered[i + 1], ordered[i]))
    end
  end)

  it("sorts a shuffled list into tag order", function()
    local list = { "7.0.1", "7.0.0", "7.0.0-beta.14", "7.0.0-beta.3" }
    table.sort(list, version.lt)
    assert.are.same({ "7.0.0-beta.3", "7.0.0-beta.14", "7.0.0", "7.0.1" }, list)
  end)

  it("accepts a leading v and normalizes it away", function()
    assert.are.equal("7.0.1", version.normalize("v7.0.1"))
    assert.are.equal(0, version.compare("v7.0.0-beta.3", "7.0.0-beta.3"))
  end)

  it("compares numeric identifiers below alphanumeric ones, as semver", function()
    assert.is_true(version.lt("1.0.0-1", "1.0.0-alpha"))
    assert.is_true(version.lt("1.0.0-alpha", "1.0.0-alpha.1"))
    assert.is_true(version.lt("1.0.0-alpha.beta", "1.0.0-beta"))
  end)

  it("rejects malformed versions with a reason", function()
    for _, bad in ipairs({ "7", "7.0", "7.0.0.1", "x.y.z", "7.0.0-", "7.0.0-beta..1", "", "7..0" }) do
      local v, err = version.parse(bad)
      assert.is_nil(v, bad)
      assert.is_string(err)
      assert.matches("not a version", err .. " not a version")
    end
    local _, err = version.parse(42)
    assert.matches("must be a string", err)
  end)
end)
