/**
 * The per-request Content-Security-Policy nonce, handed from entry.server.tsx to the
 * components that render inline scripts (<Scripts>, <ScrollRestoration>). In the browser the
 * value is '' (browsers hide nonce attributes from scripts, and hydration needs none).
 */
import { createContext, useContext } from 'react'

export const NonceContext = createContext<string>('')
export const NonceProvider = NonceContext.Provider
export const useNonce = () => useContext(NonceContext)
