/**
 * An error boundary around one screen (and one around the approvals dock): a fault while drawing
 * one part shows its message there, and the header, the other screens and the pending approvals
 * stay usable.
 */
import { Component, type ErrorInfo, type ReactNode } from 'react'

/** Props: `name` says what failed ("Tools & policy"); `children` is the guarded part. */
export interface ScreenBoundaryProps {
  name: string
  children: ReactNode
}

/** Catches what its children throw while rendering; "Reload this screen" draws them again. */
export class ScreenBoundary extends Component<ScreenBoundaryProps, { error: Error | undefined }> {
  override state: { error: Error | undefined } = { error: undefined }

  static getDerivedStateFromError(error: unknown): { error: Error } {
    return { error: error instanceof Error ? error : new Error(String(error)) }
  }

  override componentDidCatch(error: unknown, info: ErrorInfo): void {
    console.error(`Airlock: ${this.props.name} failed to draw`, error, info.componentStack)
  }

  override render(): ReactNode {
    const { error } = this.state
    if (error === undefined) return this.props.children
    return (
      <div className="state state-error" role="alert" data-testid="screen-error">
        <p>
          {this.props.name} hit an error and was stopped; the rest of Airlock keeps working:{' '}
          {error.message}
        </p>
        <button type="button" className="btn" onClick={() => this.setState({ error: undefined })}>
          Reload this screen
        </button>
      </div>
    )
  }
}
