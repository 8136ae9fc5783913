import { afterEach, vi } from 'vitest'

// An unexpected console.error is a bug the test did not notice: fail on it (Epic Stack habit).
// A test that expects one clears it before it ends: vi.mocked(console.error).mockClear().
let spy = vi.spyOn(console, 'error')
afterEach(() => {
  const calls = spy.mock.calls
  spy.mockRestore()
  spy = vi.spyOn(console, 'error')
  if (calls.length > 0) {
    throw new Error(`console.error was called during the test:\n${calls.map((c) => c.map(String).join(' ')).join('\n')}`)
  }
})
